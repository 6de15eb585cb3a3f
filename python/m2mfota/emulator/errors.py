"""The one error type of the emulator's API: an HTTP status and the field at fault."""

from __future__ import annotations


class ApiError(Exception):
    """A client error the API reports as ``{"error": message, "field": field}``."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def to_json(self) -> dict[str, str]:
        body: dict[str, str] = {"error": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body
