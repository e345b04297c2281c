"""Data quality (``quality/``: Great Expectations suites) and audit rules (``rules/``)."""

from typing import Any

__all__ = [
    "CheckOutcome",
    "build_data_docs",
    "build_quota_compliance",
    "evaluate_flags",
    "levy",
    "run_rules",
    "validate_table",
]

_LAZY = {
    "run_rules": "expectations.rules.runner",
    "build_quota_compliance": "expectations.rules.compliance",
    "levy": "expectations.rules.levy",
    "evaluate_flags": "expectations.rules.evaluate",
    "validate_table": "expectations.quality.suites",
    "CheckOutcome": "expectations.quality.suites",
    "build_data_docs": "expectations.quality.suites",
}


def __getattr__(name: str) -> Any:
    # Lazy: keeps `import expectations` cheap (no pandas/GE) for the CLI and Dagster.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
