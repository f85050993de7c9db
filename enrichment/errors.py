"""The errors sources raise. The service turns each into a per-source status.

    PivotError
    ├── ConfigError         a variable in the environment is malformed or unknown
    ├── InvalidInput        the user's text is not something we can look up
    └── SourceError         a source could not answer
        ├── SourceTimeout       it did not answer in time            -> timeout
        ├── RateLimited         it told us to slow down              -> rate_limited
        ├── Unavailable         refused, broken, garbage, too large  -> error
        └── NotConfigured       a key or setting it needs is missing -> skipped

Foreign errors (httpx, dnspython, OSError) are translated where they happen, with the cause
chained (`raise SourceTimeout(...) from exc`), so nothing outside a source sees them.
"""

from __future__ import annotations


class PivotError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(PivotError):
    """The environment is wrong: the message names the variable and what it accepts."""


class InvalidInput(PivotError):
    """Input holds nothing we can look up; the message is safe to show the user."""


class SourceError(PivotError):
    """A source failed; the message is short, safe to show, and never holds a secret."""


class SourceTimeout(SourceError):
    pass


class RateLimited(SourceError):
    def __init__(self, message: str = "rate limited", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(SourceError):
    pass


class NotConfigured(SourceError):
    pass
