"""The connector's one error tree; every failure the connector raises on purpose is a ConnectorError.

    ConnectorError
    ├── ConfigError            a setting is missing or malformed (names the setting)
    │   ├── SettingsFileError  the .env file cannot be read (names the file and line)
    │   └── SchemaOutOfDate    the database is not at this version's migration (`connector db upgrade`)
    ├── InputError             a file or request the operator/platform gave us is malformed
    │   │                      (names the source and, where known, the line)
    │   └── OutboundRefused    the outbound policy refuses a destination (connector.outbound)
    ├── ShopNotFound           no such shop in the database
    ├── Skipped                the store does not let the connector do this (a missing scope, an action
    │                          it does not offer now); recorded as skipped with the reason, never retried
    └── PlatformError          talking to a store went wrong
        ├── TransportError     connection refused, timeout, 5xx: worth retrying
        │   └── ThrottledError the store's rate limit said wait (retry_after seconds)
        ├── AuthError          401/403: bad token or key, or a missing scope; never retried
        ├── NotFoundError      the store says the resource does not exist
        └── UserError          the store refused the request's content (GraphQL userErrors,
            │                  WooCommerce 400s); carries every message
            └── RefundRefused  the store or its payment gateway refused a refund; never retried on
                               its own (the merchant settles it), carries the gateway's message

CLI commands turn ConnectorError into one line on stderr and an exit status (2 for bad input or
configuration, 1 for everything else); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class ConnectorError(Exception):
    """Root of every error the connector raises on purpose."""

    exit_code = 1


class ConfigError(ConnectorError):
    """A setting is missing or malformed."""

    exit_code = 2

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"setting {setting}: {problem}")


class SettingsFileError(ConfigError):
    """The `.env` file is not UTF-8 or has a line that is not KEY=VALUE."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line is not None else str(path)
        ConnectorError.__init__(self, f"settings file {where}: {problem}")
        self.setting = ".env"
        self.problem = problem
        self.line = line


class SchemaOutOfDate(ConfigError):
    """The database is missing, never migrated, or at another migration than this version expects."""

    def __init__(self, problem: str) -> None:
        ConnectorError.__init__(self, problem)
        self.setting = "DATABASE_URL"
        self.problem = problem


class InputError(ConnectorError):
    """Operator- or platform-supplied input is malformed; names where."""

    exit_code = 2

    def __init__(self, source: str, problem: str, line: int | None = None) -> None:
        self.source = source
        self.problem = problem
        self.line = line
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {problem}")


class OutboundRefused(InputError):
    """A URL or address the connector must not call: not https, or not a public address (SSRF)."""


class ShopNotFound(ConnectorError):
    """The shop named on the command line or in a request is not in the database."""

    exit_code = 2


class Skipped(ConnectorError):
    """The store does not let the connector do what was asked, for a reason retrying cannot change.

    `partly_done`: other parts of the same request were done (some fulfillment orders held, one not
    holdable); the action then counts as done, with the reason recorded beside it.
    """

    def __init__(self, reason: str, *, partly_done: bool = False) -> None:
        self.reason = reason
        self.partly_done = partly_done
        super().__init__(reason)


class PlatformError(ConnectorError):
    """Talking to a store went wrong."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class TransportError(PlatformError):
    """The store could not be reached or answered 5xx; worth retrying."""


class ThrottledError(TransportError):
    """The store's rate limit refused the request; retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, code="THROTTLED")


class AuthError(PlatformError):
    """The credentials were refused or lack a permission; retrying cannot help."""


class NotFoundError(PlatformError):
    """The store says the resource does not exist."""


class UserError(PlatformError):
    """The store refused the content of a request; `messages` holds every reason it gave."""

    def __init__(self, messages: Sequence[str], *, status: int | None = None, code: str | None = None) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages) or "request refused", status=status, code=code)


class RefundRefused(UserError):
    """The store or its payment gateway refused a refund; `messages` has the gateway's own words."""


def is_retryable(error: BaseException) -> bool:
    """The one place that decides whether a failed platform call is worth another try."""
    return isinstance(error, TransportError)
