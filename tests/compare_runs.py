"""What a run established, independent of how its deliveries were rendered: counts, links, flags; and their differences."""

import argparse
import sys
from collections import Counter

import sqlalchemy as sa


def _q(conn, sql: str) -> list:
    return conn.execute(sa.text(sql)).all()


def facts(engine: sa.Engine) -> dict:
    """Per source the rows read/loaded/quarantined; the person and employer partitions of the
    mentions (as sets of (source, key)); active flags and compliance keyed by those sets."""
    with engine.connect() as conn:
        audit = {s: (int(d), int(r), int(lo), int(q)) for s, d, r, lo, q in _q(conn, (
            "select source, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
            "from ops.load_audit where status = 'loaded' group by source"))}
        balanced = _q(conn, "select source, delivery from ops.load_audit where rows_read <> rows_loaded + rows_quarantined")
        quarantine = _q(conn, "select source, delivery, row_ref, column_name, reason from ops.quarantine order by 1, 2, 3")
        staged = {}
        for (name,) in _q(conn, "select table_schema || '.' || table_name from information_schema.tables "
                                "where table_schema = 'staging' and table_type = 'BASE TABLE' order by 1"):
            staged[name] = conn.execute(sa.text(f"select count(*) from {name}")).scalar()
        persons = {}
        for s, k, pid in _q(conn, "select source, source_key, person_id from core.person_xref"):
            persons.setdefault(pid, set()).add((s, k))
        employers = {}
        for s, k, eid in _q(conn, "select source, source_key, employer_id from core.employer_xref"):
            employers.setdefault(eid, set()).add((s, k))
        pset = {pid: frozenset(v) for pid, v in persons.items()}
        eset = {eid: frozenset(v) for eid, v in employers.items()}
        flags = Counter(
            (rule, year, pset.get(pid), eset.get(eid), sev)
            for rule, year, pid, eid, sev in _q(conn, "select rule, year, person_id, employer_id, severity "
                                                      "from mart.anomaly_flag where active"))
        compliance = Counter(
            (eset.get(eid), year, str(dc), str(vc), str(lv))
            for eid, year, dc, vc, lv in _q(conn, "select employer_id, year, declared_count, verified_count, "
                                                  "levy_verified from mart.quota_compliance"))
        golden_person = {
            pset.get(r[0]): tuple(map(str, r[1:])) for r in _q(conn, (
                "select person_id, full_name, id_number, cert_number, gender, birth_date, disability_category, "
                "disability_level, cert_status, hukou_region_code, phone from core.person"))}
        golden_employer = {
            eset.get(r[0]): tuple(map(str, r[1:])) for r in _q(conn, (
                "select employer_id, name, uscc, org_code, region_code, unit_type from core.employer"))}
        golden = {
            "core.person": conn.execute(sa.text("select count(*) from core.person")).scalar(),
            "core.employer": conn.execute(sa.text("select count(*) from core.employer")).scalar(),
        }
    return {
        "audit": audit, "unbalanced": balanced, "quarantine": quarantine, "staged": staged,
        "golden": golden, "person_clusters": set(pset.values()), "employer_clusters": set(eset.values()),
        "flags": flags, "compliance": compliance,
        "golden_person": set(golden_person.items()), "golden_employer": set(golden_employer.items()),
    }


def _show(x) -> str:
    if isinstance(x, frozenset):
        return str(sorted(x)[:3])
    if isinstance(x, tuple):
        return "(" + ", ".join(_show(v) for v in x) + ")"
    return str(x)


def _diff_sets(a: set, b: set, limit: int = 5) -> list[str]:
    only_a, only_b = a - b, b - a
    out = [f"  {len(only_a)} only in base, {len(only_b)} only in variant"]
    out += [f"    base:    {_show(x)}" for x in list(only_a)[:limit]]
    out += [f"    variant: {_show(x)}" for x in list(only_b)[:limit]]
    return out


def differences(base: dict, variant: dict) -> list[str]:
    """Lines naming every way the variant's facts differ from the base's (empty: the same)."""
    out = []
    for key in ("audit", "staged", "golden"):
        for name in sorted(set(base[key]) | set(variant[key])):
            a, b = base[key].get(name), variant[key].get(name)
            if key == "audit" and a and b:
                a, b = a[1:], b[1:]  # rows, not deliveries: a zero-row delivery adds none
            if a != b:
                out.append(f"{key} {name}: base {base[key].get(name)} variant {variant[key].get(name)}")
    if variant["unbalanced"]:
        out.append(f"rows_read != loaded + quarantined: {variant['unbalanced']}")
    if variant["quarantine"] != base["quarantine"]:
        out.append(f"quarantine: base {len(base['quarantine'])} rows, variant {len(variant['quarantine'])}")
        out += [f"    variant: {r}" for r in variant["quarantine"][:10]]
    for key in ("person_clusters", "employer_clusters"):
        if base[key] != variant[key]:
            out.append(f"{key} differ:")
            out += _diff_sets(base[key], variant[key])
    for key in ("golden_person", "golden_employer"):
        if base[key] != variant[key]:
            out.append(f"{key} values differ:")
            out += _diff_sets(base[key], variant[key])
    for key in ("flags", "compliance"):
        if base[key] != variant[key]:
            out.append(f"{key} differ:")
            out += _diff_sets(set(base[key].elements()), set(variant[key].elements()))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("base_url")
    p.add_argument("variant_url")
    a = p.parse_args()
    lines = differences(facts(sa.create_engine(a.base_url)), facts(sa.create_engine(a.variant_url)))
    print("\n".join(lines) or "same facts")
    sys.exit(1 if lines else 0)


if __name__ == "__main__":
    main()
