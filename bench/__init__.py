"""The helpdesk's benchmark: ``python -m bench --tickets N --db postgres|sqlite`` (see README.md).

Builds its own database, seeds N tickets of realistic shape with bulk inserts, and times
the API, the sync and the admin through the full Django stack, in-process.
"""
