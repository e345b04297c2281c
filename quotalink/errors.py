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


class SourceAPIError(QuotaLinkError):
    """The quota API refused or kept failing a request."""
