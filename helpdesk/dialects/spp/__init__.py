"""Service Provider Pro's tickets API (``POST/GET /api/tickets``, ``GET /api/tickets/{id}``);
mount ``helpdesk.dialects.spp.urls`` where an SPP client expects ``https://{workspace}/api/``.
See docs/dialects/spp.md."""
