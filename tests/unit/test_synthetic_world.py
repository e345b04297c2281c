"""Unit tests of the generator's world model: identifiers, noise and hard entity cases."""

import random
from collections import Counter
from datetime import date

from stdnum.cn import ric, uscc

import refdata
import synthetic
from synthetic import noise
from synthetic.idcodes import (
    id18_to_15,
    is_valid_id18,
    is_valid_uscc,
    make_id18,
    make_org_code,
    make_uscc,
    org_code_check,
)
from synthetic.scenarios import SCENARIOS


def test_id_and_uscc_check_characters_agree_with_stdnum():
    rng = random.Random(3)
    for i in range(500):
        birth = date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28))
        idn = make_id18("370102", birth, rng.randint(0, 999))
        assert ric.calc_check_digit(idn) == idn[-1]
        assert is_valid_id18(idn)
        assert id18_to_15(idn) == idn[:6] + idn[8:17]
        code = make_uscc(rng.choice(["91", "11", "12", "52", "92"]), "370102", make_org_code(i))
        assert uscc.calc_check_digit(code) == code[-1]
        assert is_valid_uscc(code)
    assert org_code_check("D2143569") == "X"  # GB 11714 worked example
    assert not is_valid_uscc("91370102279096555A")


def test_org_codes_are_unique():
    codes = {make_org_code(i) for i in range(20_000)}
    assert len(codes) == 20_000


def test_noise_functions():
    rng = random.Random(1)
    idn = make_id18("370102", date(1985, 3, 12), 452)
    wrong = noise.wrong_digit(idn, rng)
    assert len(wrong) == 18 and wrong != idn and sum(a != b for a, b in zip(wrong, idn, strict=True)) == 1
    swapped = noise.transposed(idn, rng)
    assert sorted(swapped) == sorted(idn) and swapped != idn
    assert noise.excel_damaged(idn) == int(idn[:15] + "000")
    assert noise.fullwidth("3701") == "３７０１"
    assert noise.traditional("刘丽华") == "劉麗華"
    assert noise.homophone("王伟", random.Random(2)) in ("王玮", "王炜")
    assert noise.spaced("王秀英", rng).replace(" ", "").replace("\u3000", "") == "王秀英"
    assert noise.mixed_date(date(2023, 5, 1), random.Random(5)) in (
        "2023-05-01", "2023/5/1", "2023年5月")
    variants = {noise.company_variant("济南明泰机械有限公司", "济南", random.Random(i))
                for i in range(60)}
    assert {"明泰机械有限公司", "济南明泰机械有限责任公司", "明泰（济南）机械有限公司"} <= variants


def test_hard_cases_exist_in_a_chunk():
    chunk, decls, _ = synthetic.build_chunk(SCENARIOS["default"], 11, 0, 1500)
    ids = Counter(p.id18 for p in chunk.persons)
    assert max(ids.values()) == 1, "every person has a unique ID"
    by_name_birth = Counter((p.name, p.birth) for p in chunk.persons)
    assert any(n >= 2 for n in by_name_birth.values()), "true namesakes"
    twins = Counter((p.id_region, p.birth, p.address) for p in chunk.persons if p.role == "holder")
    assert any(n >= 2 for n in twins.values()), "twins"
    tags = Counter(e.tag for e in chunk.employers)
    assert tags["branch"] >= 1 and tags["renamed"] >= 1 and tags["same_trade"] >= 2
    for emp in chunk.employers:
        if emp.tag == "branch":
            assert emp.head and emp.head.uscc != emp.uscc and emp.head.trade == emp.trade
    renamed = [e for e in chunk.employers if e.tag == "renamed"]
    names = {(d.employer.eid, d.year): d.latest.unit_name for d in decls}
    for emp in renamed:
        if (emp.eid, 2024) in names and (emp.eid, 2025) in names:
            assert names[(emp.eid, 2024)] != names[(emp.eid, 2025)]
    assert any(e.outside for e in chunk.employers)
    assert any(p.legacy15 for p in chunk.persons)
    statuses = Counter(c.status for p in chunk.persons for c in p.certs)
    assert statuses["注销"] and statuses["迁出"] and statuses["正常"]
    assert any(c.reason == "重新评定" for p in chunk.persons for c in p.certs)
    assert any(c.valid_until and c.valid_until < date(2026, 1, 1) and c.status == "正常"
               for p in chunk.persons for c in p.certs), "expired certificates"


def test_every_region_code_is_known():
    chunk, _, _ = synthetic.build_chunk(SCENARIOS["default"], 5, 0, 800)
    for p in chunk.persons:
        assert refdata.region(p.hukou) is not None
        assert refdata.city_of(p.id_region) is not None
    for e in chunk.employers:
        assert e.outside or refdata.region(e.region) is not None


def test_size_bounds(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="persons"):
        synthetic.generate(tmp_path / "s", tmp_path / "t", persons=0, progress=False)
    with pytest.raises(ValueError, match="2,500,000"):
        synthetic.generate(tmp_path / "s", tmp_path / "t", persons=synthetic.MAX_PERSONS + 1,
                           progress=False)


def test_registered_scenario_variant():
    heavy = synthetic.register_scenario(synthetic.with_overrides(
        SCENARIOS["default"], name="heavy_fraud", fraud_rate=0.04))
    assert synthetic.get_scenario("heavy_fraud") is heavy
    light_chunk, _, light = synthetic.build_chunk(SCENARIOS["default"], 2, 0, 2000)
    heavy_chunk, _, found = synthetic.build_chunk(heavy, 2, 0, 2000)
    assert len(heavy_chunk.planted) > len(light_chunk.planted)
    assert synthetic.check_chunk(heavy_chunk, found) == {"planted_not_found": 0,
                                                         "decoys_flagged": 0}
    SCENARIOS.pop("heavy_fraud")
