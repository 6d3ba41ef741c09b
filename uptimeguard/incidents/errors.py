"""Errors a person can cause when working incidents; the API maps them to 400, 409 and 404."""


class IncidentError(ValueError):
    """The request cannot be done as asked (HTTP 400)."""


class Conflict(IncidentError):
    """The incident's state forbids the action (HTTP 409): pausing a resolved or an already
    paused incident, resuming one that is not paused."""


class NotFound(LookupError):
    """No such incident or customer (HTTP 404)."""
