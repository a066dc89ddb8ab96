"""What the prediction path answers: a reply, or an error answered in the caller's protocol."""

from __future__ import annotations

from dataclasses import dataclass, field

JSON = "application/json"


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = JSON


class ProtocolError(Exception):
    """An error answered in the caller's protocol, with a status and extra headers."""

    def __init__(self, status: int, message: str, code: str = "invalid", headers=()):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, list(headers)
