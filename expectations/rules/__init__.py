"""Audit rules (one module per code of ``data/rules.csv``), their runner, parameters and levy."""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from expectations.rules.base import Finding, RuleContext, RuleFn

__all__ = ["RULES", "Finding", "RuleContext"]


def _registry() -> "dict[str, RuleFn]":
    from expectations.rules.config import rule_specs

    # A rule is its row in rules.csv plus the module named after its code, in contract order.
    found: dict[str, RuleFn] = {}
    for code in rule_specs():
        module = importlib.import_module(f"expectations.rules.{code.lower()}")
        if module.RULE != code:
            raise ValueError(f"expectations.rules.{code.lower()} declares {module.RULE}")
        found[code] = module.find
    return found


def __getattr__(name: str) -> Any:
    # Lazy: the levy and the parameters live here too and must not pull pandas in.
    if name == "RULES":
        globals()["RULES"] = rules = _registry()
        return rules
    if name in ("Finding", "RuleContext"):
        from expectations.rules import base

        return getattr(base, name)
    raise AttributeError(name)
