"""helpdesk: a reusable Django helpdesk app with a REST API and a staff admin."""

__version__ = "0.1.0"
