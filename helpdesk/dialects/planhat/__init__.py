"""Planhat's ticket API (``GET/PUT /tickets``, ``DELETE /tickets/{_id}``); mount
``helpdesk.dialects.planhat.urls`` where a Planhat client expects ``https://api.planhat.com/``.
See docs/dialects/planhat.md."""
