"""The suite registry: checks generated from the schema metadata plus the declarative registry."""

import subprocess
import sys

from expectations.quality.suites import check_specs, has_blocking_checks, personal_columns, tables


def test_every_layer_table_gets_a_suite_with_its_key():
    names = tables()
    for schema in ("raw", "staging", "core", "mart"):
        assert any(n.startswith(schema + ".") for n in names)
    for name in names:
        specs = check_specs(name)
        assert specs[0].kind == "columns"
        keys = [s for s in specs if s.kind == "unique"]
        assert len(keys) == 1 and keys[0].blocking, name


def test_building_specs_does_not_import_great_expectations(tmp_path):
    # A fresh interpreter: other tests of the session may have imported GE already.
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys\nimport expectations\nfrom expectations.quality.suites import check_specs\n"
        "check_specs('core.person_xref')\n"
        "print('great_expectations' in sys.modules, 'pandas' in sys.modules)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.split() == ["False", "False"]


def test_keys_types_and_nullability_come_from_the_schema():
    specs = {s.name: s for s in check_specs("core.person_xref")}
    assert specs["key_unique:source+source_key"].columns == ("source", "source_key")
    assert specs["type:match_probability"].arg == "DOUBLE PRECISION"
    assert specs["not_null:person_id"].blocking is False
    assert specs["not_null:source"].blocking is True


def test_blocking_checks_are_the_poisonous_ones():
    xref = {s.name: s for s in check_specs("core.person_xref")}
    assert xref["xref_complete"].blocking and xref["references:person_id"].blocking
    audit = {s.name: s for s in check_specs("ops.load_audit")}
    assert audit["delivery_reconciles"].blocking
    flags = {s.name: s for s in check_specs("mart.anomaly_flag")}
    assert not flags["in_set:rule"].blocking and len(flags["in_set:rule"].arg) == 13
    assert has_blocking_checks("staging.declaration")


def test_code_lists_ranges_and_identifiers_from_the_registry():
    specs = {s.name: s for s in check_specs("staging.declared_employment")}
    assert specs["in_set:employment_type"].arg == ["全日制", "非全日制", "劳务派遣"]
    assert specs["between:si_months"].arg == (0.0, 12.0)
    assert "id_check_digit:id_number" in specs
    raw = {s.name: s for s in check_specs("raw.disability_registry")}
    assert raw["in_set:证件状态"].arg == ["正常", "注销", "迁出"]


def test_personal_columns_are_declared_for_masking():
    assert personal_columns("staging.person_mention") == {
        "id_number": "id", "id_number_raw": "id", "cert_number": "id", "full_name": "name",
        "name_raw": "name", "phone": "phone", "source_key": "id"}
    raw = personal_columns("raw.disability_registry")
    assert raw["公民身份号码"] == "id" and raw["姓名"] == "name" and raw["联系电话"] == "phone"
