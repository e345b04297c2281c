"""Unit tests of the deterministic key repair (typo'd IDs, cityless employer names)."""

import pandas as pd

from entity_resolution.model import load_model
from entity_resolution.pipeline import PERSON, resolve_frame
from entity_resolution.prepare import prepare_employers, prepare_persons
from entity_resolution.repair import (
    attach_keyless_employers,
    repair_person_keys,
    two_typos_apart,
)
from quotalink.standardise import check_character, normalise_id, one_typo_apart


def _id(core17: str) -> str:
    return core17 + check_character(core17)


# The two examples of the default province (seed 42), as typed by the quota clerk.
CHEN = _id("37061419861004156")          # valid 370614198610041565
CHEN_TYPED = "370614198601041565"        # 10 ↔ 01 swapped: check fails
ZHANG = _id("37081120041206440")         # valid 37081120041206440X
ZHANG_TYPED = "37081120041026440X"       # month-day 1206 typed 1026: "20" ↔ "02" swapped
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _persons(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["id_number"] = [normalise_id(v).value for v in df["id_number_raw"]]
    df["id_quality"] = [normalise_id(v).quality for v in df["id_number_raw"]]
    return prepare_persons(df)


def _row(source: str, key: str, name: str, raw: str | None) -> dict:
    return {"source": source, "source_key": key, "full_name": name, "id_number_raw": raw}


def _wrong_digit(idn: str, pos: int) -> str:
    digit = "3" if idn[pos] != "3" else "4"
    return idn[:pos] + digit + idn[pos + 1:]


def test_typed_examples_fail_their_check_and_are_one_typo_away():
    assert CHEN == "370614198610041565" and ZHANG == "37081120041206440X"
    for typed, valid in ((CHEN_TYPED, CHEN), (ZHANG_TYPED, ZHANG)):
        assert normalise_id(typed).quality == "bad_check"
        assert one_typo_apart(typed, valid)
    assert one_typo_apart("12345", "12355")          # one substitution
    assert one_typo_apart("12345", "12354")          # one adjacent swap
    assert not one_typo_apart("12345", "12345")
    assert not one_typo_apart("12345", "13354")      # two edits
    assert not one_typo_apart("12345", "52341")      # a distant swap
    assert not one_typo_apart("1234", "12345")


def test_bad_check_ids_take_the_valid_id_of_the_same_name():
    f = _persons([
        _row("disability_registry", "r1", "陈林华", CHEN),
        _row("hr", "h1", "陈林华", CHEN),
        _row("quota", "q1", "陈林华", CHEN_TYPED),
        _row("hr", "h2", "张萍华", ZHANG),
        _row("quota", "q2", "張萍華", ZHANG_TYPED),  # traditional: same standardised name
        _row("quota", "q3", "张萍华", _wrong_digit(ZHANG, 9)),
        # full-width digits and a lower-case x, as typed into a spreadsheet
        _row("quota", "q4", "张萍华", ZHANG_TYPED[:10].translate(FULLWIDTH) + " "
             + ZHANG_TYPED[10:].lower()),
    ])
    assert f["id_key"].isna().sum() == 4
    repaired = repair_person_keys(f)
    f = f.set_index("source_key")
    assert int(repaired.sum()) == 4
    assert f.loc["q4", "id_key"] == ZHANG
    assert f.loc["q1", "id_key"] == CHEN
    assert f.loc["q2", "id_key"] == ZHANG
    assert f.loc["q3", "id_key"] == ZHANG
    assert f.loc["h1", "id_key"] == CHEN  # untouched


def test_homophone_name_counts_only_when_no_same_name_id_fits():
    f = _persons([
        _row("hr", "h1", "孙波辉", CHEN),
        _row("quota", "q1", "孙波晖", CHEN_TYPED),  # same pinyin, another character
    ])
    assert list(repair_person_keys(f)) == [False, True]
    assert f["id_key"].tolist() == [CHEN, CHEN]


def test_one_mistyped_character_counts_only_when_neither_name_nor_sound_fits():
    f = _persons([
        _row("hr", "h1", "陈亮", CHEN),
        _row("quota", "q1", "陈靓", CHEN_TYPED),   # 靓 read jìng, not liàng: not the same pinyin
        _row("quota", "q2", "程靓", CHEN_TYPED),   # two characters apart: not him
    ])
    assert list(repair_person_keys(f)) == [False, True, False]
    assert f["id_key"].tolist()[:2] == [CHEN, CHEN] and pd.isna(f["id_key"].iat[2])


def test_no_repair_for_another_name_or_more_than_two_typos():
    three = _wrong_digit(_wrong_digit(CHEN_TYPED, 14), 16)
    assert not two_typos_apart(three, CHEN)
    f = _persons([
        _row("hr", "h1", "陈林华", CHEN),
        _row("quota", "q1", "陈林", CHEN_TYPED),                        # another name
        _row("quota", "q2", "陈林", _wrong_digit(CHEN_TYPED, 14)),      # two typos, another name
        _row("quota", "q3", "陈林华", CHEN[:15] + "000"),               # Excel damage
        _row("quota", "q4", "陈林华", three),                           # three typos
    ])
    assert not repair_person_keys(f).any()
    assert f["id_key"].isna().sum() == 4


def test_two_typos_take_the_one_valid_id_of_the_very_same_name():
    # A slip on top of a slip: two neighbours swapped twice, or a swap and a wrong digit.
    twice = "370614918610041655"                         # 19 ↔ 91 and 65 ↔ 56
    slip = _wrong_digit(CHEN_TYPED, 14)
    assert two_typos_apart(twice, CHEN) and two_typos_apart(slip, CHEN)
    assert not one_typo_apart(twice, CHEN) and not one_typo_apart(slip, CHEN)
    assert not two_typos_apart(CHEN, CHEN)
    f = _persons([
        _row("disability_registry", "r1", "陈林华", CHEN),
        _row("quota", "q1", "陈林华", twice),
        _row("quota", "q2", "陳林華", slip),                           # same standardised name
    ])
    assert repair_person_keys(f).sum() == 2
    assert set(f["id_key"]) == {CHEN}
    # A homophone typed for the name as well (陈林化 for 陈林华): the same pinyin counts
    # only where no ID of the very same name is two typos away.
    g = _persons([
        _row("disability_registry", "r1", "陈林华", CHEN),
        _row("quota", "q1", "陈林化", twice),
        _row("quota", "q2", "陈林", twice),                            # another sound
    ])
    key = dict(zip(g["source_key"], g["unique_id"], strict=True))
    repaired = repair_person_keys(g)
    assert repaired[key["q1"]] and g.at[key["q1"], "id_key"] == CHEN
    assert not repaired[key["q2"]]


def test_namesakes_within_two_typos_are_ambiguous():
    a = _id("37010219850312452")
    b = _id("37010219850312462")  # a namesake born the same day in the same county
    # a's ID with its 16th digit typed as b's and a wrong 11th digit: two typos from both.
    typed = _wrong_digit(a[:15] + b[15] + a[16:], 10)
    assert two_typos_apart(typed, a) and two_typos_apart(typed, b)
    assert normalise_id(typed).quality == "bad_check"
    f = _persons([
        _row("hr", "a", "王伟", a),
        _row("hr", "b", "王伟", b),
        _row("quota", "q", "王伟", typed),
    ])
    assert not repair_person_keys(f).any()


def test_namesakes_within_one_typo_are_ambiguous_and_never_linked():
    # Two valid IDs of two namesakes that a single typed value is one typo from.
    a = _id("37010219850312452")
    typed = a[:14] + ("9" if a[14] != "9" else "8") + a[15:]
    b = _id(typed[:17])  # the namesake's ID: the typed digits with their right check
    assert one_typo_apart(typed, a) and one_typo_apart(typed, b)
    assert normalise_id(typed).quality == "bad_check"
    f = _persons([
        _row("hr", "a", "王伟", a),
        _row("hr", "b", "王伟", b),
        _row("quota", "q", "王伟", typed),
    ])
    assert not repair_person_keys(f).any()
    assert pd.isna(f.set_index("source_key").loc["q", "id_key"])


def test_twin_with_a_typo_is_not_given_the_sibling_id():
    # Twins: same region and birth date, IDs differ in the sequence; the typo'd twin's own
    # ID is held under his own name, the sibling's under hers.
    brother = _id("37010219850312451")
    sister = _id("37010219850312462")
    typed = _wrong_digit(brother, 8)
    f = _persons([
        _row("hr", "b", "李明", brother),
        _row("hr", "s", "李敏", sister),  # another name: never a candidate
        _row("quota", "q", "李明", typed),
    ])
    repair_person_keys(f)
    assert f.set_index("source_key").loc["q", "id_key"] == brother


def test_cannot_link_override_undoes_the_repair():
    f = _persons([
        _row("disability_registry", "r1", "陈林华", CHEN),
        _row("quota", "q1", "陈林华", CHEN_TYPED),
    ])
    ids = dict(zip(f["source_key"], f["unique_id"], strict=True))
    repaired = repair_person_keys(f, [(ids["r1"], ids["q1"])])
    assert not repaired.any()
    assert pd.isna(f.set_index("source_key").loc["q1", "id_key"])


def test_resolution_links_the_typo_exactly_and_keeps_namesakes_apart():
    namesake = _id("37010219850312452")
    rows = [
        _row("disability_registry", "r1", "陈林华", CHEN),
        _row("hr", "h1", "陈林华", CHEN),
        _row("quota", "q1", "陈林华", CHEN_TYPED),
        _row("hr", "n1", "陈林华", namesake),  # a namesake with another ID
    ]
    df = pd.DataFrame(rows)
    df["id_number"] = [normalise_id(v).value for v in df["id_number_raw"]]
    run = resolve_frame(PERSON, df, load_model("person"))
    person = dict(zip(run.features["source_key"], run.features["person_id"], strict=True))
    assert person["q1"] == person["r1"] == person["h1"]
    assert person["n1"] != person["r1"]
    assert run.repaired == 1
    # An exact link: no model probability on the repaired mention.
    xref = run.xref.set_index("source_key")
    assert pd.isna(xref.loc["q1", "match_probability"])
    assert sorted(run.golden["id_number"]) == sorted([CHEN, namesake])

    overrides = pd.DataFrame([{"override_id": 1, "source_a": "quota", "key_a": "q1",
                               "source_b": "disability_registry", "key_b": "r1",
                               "decision": "cannot_link",
                               "decided_at": pd.Timestamp("2026-11-01", tz="UTC")}])
    run = resolve_frame(PERSON, df, load_model("person"), overrides=overrides)
    person = dict(zip(run.features["source_key"], run.features["person_id"], strict=True))
    assert person["q1"] != person["r1"]
    assert person["r1"] == person["h1"]
    assert run.repaired == 0


def _employers(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["source", "source_key", "name", "uscc", "region_code"])
    return prepare_employers(df)


USCC_A = "91371428327675149A"  # check characters are not judged by the repair


def _org(uscc: str) -> str:
    return uscc[8:17]


def test_cityless_name_joins_the_one_identified_employer():
    f = _employers([
        ("hr", "h1", "德州海岳服装有限公司", "913714283276751499", "371428"),
        ("employment_service", "e1", "海岳服装有限公司", None, None),
        ("employment_service", "e2", "市长清区华宇便利店", None, None),
        ("hr", "h2", "济南市长清区华宇便利店", "92370113325261591A", "370113"),
        ("quota", "q1", "上海齐润机械有限公司", "91310115386565767K", "310115"),
        ("employment_service", "e3", "齐润机械有限公司", None, None),
    ])
    repaired = attach_keyless_employers(f)
    org = f.set_index("source_key")["org_code"]
    assert int(repaired.sum()) == 3
    assert org["e1"] == org["h1"] == "327675149"
    assert org["e2"] == org["h2"] == "325261591"
    assert org["e3"] == org["q1"] == "386565767"  # a place prefix we have no table for


def test_same_trade_name_in_two_cities_narrowed_by_legal_form_only():
    f = _employers([
        ("hr", "a", "烟台博远物业有限公司", "913706023460181282", "370602"),
        ("hr", "b", "潍坊博远物业股份有限公司", "913707023648438181", "370702"),
        ("employment_service", "e1", "博远物业有限公司", None, None),
        ("hr", "c", "济南瑞丰印务有限公司", "913701023334676611", "370102"),
        ("hr", "d", "临沂瑞丰印务有限公司", "913713123812559541", "371312"),
        ("employment_service", "e2", "瑞丰印务有限公司", None, None),
    ])
    attach_keyless_employers(f)
    org = f.set_index("source_key")["org_code"]
    assert org["e1"] == org["a"]          # only 烟台's is a 有限公司
    assert pd.isna(org["e2"])             # two cities, same legal form: a coin toss


def test_branch_never_joins_its_head_office_and_unknown_city_blocks():
    f = _employers([
        ("hr", "head", "德州海岳服装有限公司", "913714283276751499", "371428"),
        ("employment_service", "br", "海岳服装有限公司销售分公司", None, None),  # no city
        ("hr", "x", "东营远航物流有限公司", "91370523338294763H", "370523"),
        # A keyless mention names the trade name in another city: maybe a third employer.
        ("employment_service", "y", "青岛远航物流有限公司", None, None),
        ("employment_service", "z", "远航物流有限公司", None, None),
    ])
    repaired = attach_keyless_employers(f)
    assert not repaired.any()
    assert f["org_code"].isna().sum() == 3


def test_employer_cannot_link_undoes_the_attachment():
    f = _employers([
        ("hr", "h1", "德州海岳服装有限公司", "913714283276751499", "371428"),
        ("employment_service", "e1", "海岳服装有限公司", None, None),
    ])
    ids = dict(zip(f["source_key"], f["unique_id"], strict=True))
    assert not attach_keyless_employers(f, [(ids["e1"], ids["h1"])]).any()
    assert f["org_code"].isna().sum() == 1


def test_valid_id_typed_against_its_own_certificate_takes_the_certificates():
    # Two typos that leave the check right: the ID column names nobody else, the
    # certificate names the registered holder of that name.
    typed = _id("37061419861004165")
    rows = [
        {**_row("disability_registry", "r1", "陈林华", CHEN), "cert_number": CHEN + "44"},
        {**_row("employment_service", "j1", "陈林华", typed), "cert_number": CHEN + "44"},
        # Another name, or a typed ID someone else holds: left as typed.
        {**_row("employment_service", "j2", "陈林", _id("37061419861004175")),
         "cert_number": CHEN + "44"},
        {**_row("hr", "h1", "王伟", ZHANG)},
        {**_row("employment_service", "j3", "陈林华", ZHANG), "cert_number": CHEN + "44"},
    ]
    f = _persons(rows)
    key = dict(zip(f["source_key"], f["unique_id"], strict=True))
    repaired = repair_person_keys(f)
    assert repaired[key["j1"]] and f.at[key["j1"], "id_key"] == CHEN
    assert not repaired[key["j2"]] and not repaired[key["j3"]]
    assert f.at[key["j3"], "id_key"] == ZHANG
