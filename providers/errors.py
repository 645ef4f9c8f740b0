"""The two ways a provider call fails: technical (retry it) or logical (the provider said no)."""
from __future__ import annotations


class ProviderError(Exception):
    provider = "provider"

    def __init__(self, message: str, *, code: str = "", provider: str | None = None, kind: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        # what the failure means, where the provider says (`credentials`, `ip_not_allowed`,
        # `balance`, `maintenance`, a reply code's class...): alerts and the operator's record key on it
        self.kind = kind
        if provider:
            self.provider = provider


class TechnicalError(ProviderError):
    """Network trouble, timeouts, 5xx, an unreadable answer: the same call may work later."""


class LogicalError(ProviderError):
    """The provider understood and refused (declined card, unknown domain): retrying won't help."""
