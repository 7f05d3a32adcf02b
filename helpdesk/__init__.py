"""helpdesk: a reusable Django helpdesk app with a REST API and a staff admin.

Two versions, both kept here and nowhere else (docs/versioning.md):

- ``__version__``: the package's release (Semantic Versioning). The wheel's metadata
  (``pyproject.toml`` reads it) and the OpenAPI document's ``info.version`` are this.
- ``API_VERSION``: the date of the API's wire contract, sent as ``X-Api-Version`` on every
  response and shown as ``info.x-api-version`` in the document. It changes only in a
  release that changes what the API accepts or answers; other releases keep it.
"""

__version__ = "0.1.0"
API_VERSION = "2026-11-23"
