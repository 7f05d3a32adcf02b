"""Dialects: other ticket systems' REST APIs spoken on top of the helpdesk.

Each subpackage (``zammad``, ``planhat``, ``spp``) is a translator only: it parses its
system's requests into service arguments and renders what the services and selectors
return in its system's shape. No rule lives here (see STYLE.md, habit 15).
"""
