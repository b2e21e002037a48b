"""Typed API errors. `router.handle` is the one place that turns them into JSON responses."""


class ApiError(Exception):
    status = 500
    headers = {}

    def __init__(self, message, details=None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405

    def __init__(self, message, allowed):
        super().__init__(message)
        self.allowed = allowed


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, message, details, retry_after):
        super().__init__(message, details)
        self.headers = {"retry-after": str(retry_after)}


class ServiceUnavailable(ApiError):
    status = 503


def detail(index, field, message):
    return {"index": index, "field": field, "message": message}
