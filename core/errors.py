"""The one refusal type a user can meet: a stable code, a human sentence and the field at fault."""
from __future__ import annotations


class BusinessError(Exception):
    """A refusal the user can act on. `code` is stable API; `message` is shown to people."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 422,
                 retry_after: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}
