"""The demo site that runs the helpdesk app; not shipped in the wheel."""
