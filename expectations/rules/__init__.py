"""The 13 audit rules of the warehouse contract, one module each, in contract order."""

from expectations.rules import (
    age_ineligible,
    below_min_wage,
    cert_invalid,
    civil_servant_conflict,
    concurrent_student,
    concurrent_unemployed,
    distant_residence,
    implausible_ratio,
    level_mismatch,
    multi_employer,
    no_social_insurance,
    shared_contact,
    short_contract,
)
from expectations.rules.base import Finding, RuleContext, RuleFn

RULES: dict[str, RuleFn] = {
    m.RULE: m.find
    for m in (
        multi_employer, no_social_insurance, below_min_wage, age_ineligible, cert_invalid,
        level_mismatch, concurrent_student, concurrent_unemployed, civil_servant_conflict,
        short_contract, distant_residence, implausible_ratio, shared_contact,
    )
}

__all__ = ["RULES", "Finding", "RuleContext"]
