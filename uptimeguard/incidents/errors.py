"""Errors a person can cause when working incidents; the API maps them to 400, 409 and 404."""


class IncidentError(ValueError):
    """The request cannot be done as asked (HTTP 400)."""


class WrongState(IncidentError):
    """The incident's state forbids it, e.g. acknowledging or resolving a resolved incident
    (HTTP 409: the request was well formed; the incident is not in a state to take it)."""


class NotFound(LookupError):
    """No such incident or customer (HTTP 404)."""
