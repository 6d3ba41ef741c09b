"""Errors a person can cause when working incidents; the API maps them to 400 and 404."""


class IncidentError(ValueError):
    """The request cannot be done as asked (HTTP 400)."""


class NotFound(LookupError):
    """No such incident or customer (HTTP 404)."""
