"""The few named exception types of the product; each carries where the problem is."""


class QuotaLinkError(Exception):
    """Base of every error the product raises on purpose."""


class ConfigError(QuotaLinkError):
    """A setting is missing, malformed or points at something unreachable."""


class DeliveryError(QuotaLinkError):
    """A delivery (file, API window, DB window) cannot be read at all."""

    def __init__(self, source: str, delivery: str, reason: str) -> None:
        self.source, self.delivery, self.reason = source, delivery, reason
        super().__init__(f"{source}/{delivery}: {reason}")


class RowError(QuotaLinkError):
    """One row of a delivery is malformed; the rest of the delivery still loads."""

    def __init__(self, source: str, delivery: str, row_ref: str, column: str | None, reason: str):
        self.source, self.delivery, self.row_ref = source, delivery, row_ref
        self.column, self.reason = column, reason
        where = f"row {row_ref}" + (f", column {column}" if column else "")
        super().__init__(f"{source}/{delivery} {where}: {reason}")


class SourceAPIError(QuotaLinkError):
    """The quota API refused or kept failing a request."""
