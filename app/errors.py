"""Domain errors that routes turn into HTTP statuses and the CLI into messages."""


class LungsignError(Exception):
    """Base class: the message is shown to the user as is."""

    status_code = 400


class NotFound(LungsignError):
    status_code = 404


class Conflict(LungsignError):
    status_code = 409


class Invalid(LungsignError):
    status_code = 422


class Forbidden(LungsignError):
    status_code = 403
