"""Data quality (Great Expectations suites) and audit rules for quota employment."""

from typing import Any

from expectations.levy import levy

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
    "run_rules": "expectations.runner",
    "build_quota_compliance": "expectations.compliance",
    "validate_table": "expectations.suites",
    "CheckOutcome": "expectations.suites",
    "build_data_docs": "expectations.suites",
    "evaluate_flags": "expectations.evaluate",
}


def __getattr__(name: str) -> Any:
    # Lazy: keeps `import expectations` cheap (no pandas/GE) for the CLI and Dagster.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
