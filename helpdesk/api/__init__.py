"""The helpdesk REST API (see docs/api.md): mount ``helpdesk.api.urls`` at any prefix."""
