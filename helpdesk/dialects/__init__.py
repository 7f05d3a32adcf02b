"""Dialects: URL modules that speak another helpdesk's REST API (Zammad, ...) by
translating its requests into service calls and its responses from selectors."""
