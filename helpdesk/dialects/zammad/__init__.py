"""The Zammad dialect: ``/api/v1/`` as Zammad clients (``zammad-py``, ``zammadoo``,
scripts) call it. Mount ``helpdesk.dialects.zammad.urls``; see docs/dialects/zammad.md."""
