"""What happens after a write: the task layer (``tasks``), and the events it carries."""
