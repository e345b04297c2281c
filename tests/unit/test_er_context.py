"""Unit tests of the context rules: relational employer links, office and county, ID-less persons."""

import pandas as pd

from entity_resolution.context import (
    ambiguous_name_records,
    build_context,
    cores_compatible,
    link_by_context,
    link_idless_persons,
    person_employer_cores,
)
from entity_resolution.evaluation import breakdown
from entity_resolution.prepare import prepare_employers, prepare_persons
from quotalink.standardise import check_character, normalise_id
from quotalink.standardise.regions import region_from_text

HUAXIN_JN = "9137010249382104X1"
HUAXIN_QD = "913702124938210571"
MINGTAI = "913701027654321098"


def _employers(rows: list[tuple]) -> pd.DataFrame:
    cols = ["source", "source_key", "name", "uscc", "org_code", "region_code", "unit_type",
            "observed_on"]
    return prepare_employers(pd.DataFrame([dict(zip(cols, r, strict=False)) for r in rows],
                                          columns=cols))


def _ctx(registrations=(), xref=(), declared=(), contributions=(), civil=()):
    return build_context(
        pd.DataFrame(list(registrations), columns=["registration_id", "office", "start_date",
                                                   "end_date", "hukou_region_code"]),
        pd.DataFrame(list(xref), columns=["source", "source_key", "person_id"]),
        pd.DataFrame(list(declared), columns=["employee_record_id", "declaration_id",
                                              "declaration_year", "contract_start",
                                              "contract_end"]),
        pd.DataFrame(list(contributions), columns=["person_key", "employer_key", "first",
                                                   "last"]),
        pd.DataFrame(list(civil), columns=["staff_key", "joined_on", "year"]))


def _province() -> pd.DataFrame:
    """One trade name in two cities, plus a second employer of the same person."""
    return _employers([
        ("quota", "D2024370102000001", "济南华信文化传媒集团有限公司", HUAXIN_JN, None, "370102"),
        ("hr", "370000000001", "济南华信文化传媒集团有限公司", HUAXIN_JN, None, "370102"),
        ("quota", "D2024370212000002", "青岛华信文化传媒集团有限公司", HUAXIN_QD, None, "370212"),
        ("hr", "370000000003", "济南明泰机械有限公司", MINGTAI, None, "370102"),
        ("employment_service", "JY1", "华信文化传媒集团有限责任公司", None, None, None),
        ("employment_service", "JY2", "華信文化傳媒集團有限公司", None, None, None),
        ("employment_service", "JY3", "华信文化传媒集团有限公司", None, None, None),
        ("employment_service", "JY4", "华信文化传媒集团有限公司", None, None, None),
    ])


def test_relational_rule_takes_the_persons_employer_in_the_same_months():
    f = _province()
    ctx = _ctx(
        registrations=[("JY1", "青岛市市南区残疾人联合会", "2024-03-01", None, "370202"),
                       ("JY2", None, "2023-01-01", "2023-06-30", None)],
        xref=[("employment_service", "JY1", "P1"), ("quota", "E-1", "P1"), ("hr", "a1", "P1"),
              ("employment_service", "JY2", "P2"), ("hr", "a2", "P2")],
        declared=[("E-1", "D2024370102000001", 2024, "2020-01-01", None)],
        # P1 also works for 明泰 in those months: its name does not fit, so it does not count.
        contributions=[("a1", "370000000003", 202401, 202412),
                       ("a2", "370000000001", 202401, 202412)])
    links = link_by_context(f, ctx)
    jy1 = int(f.index[f["source_key"] == "JY1"][0])
    jy2 = int(f.index[f["source_key"] == "JY2"][0])
    # The office (Qingdao) says otherwise, but the person's own employer decides.
    assert links.rows[jy1] == HUAXIN_JN[8:17]
    assert links.reasons[jy1] == ("relational", "same golden person employed there in the "
                                                "same months (quota)")
    # P2's contributions start after the registration ended: no evidence, no office either.
    assert jy2 not in links.rows


def test_office_rule_places_a_cityless_name_in_the_offices_city_only_away_from_home():
    f = _province()
    ctx = _ctx(registrations=[
        ("JY3", "青岛市崂山区残疾人联合会", "2024-03-01", None, "370102"),  # office ≠ home
        ("JY4", "济南市历城区残疾人联合会", "2024-03-01", None, "370112"),  # home office
    ])
    links = link_by_context(f, ctx)
    jy3 = int(f.index[f["source_key"] == "JY3"][0])
    jy4 = int(f.index[f["source_key"] == "JY4"][0])
    assert links.rows[jy3] == HUAXIN_QD[8:17]
    assert links.reasons[jy3][0] == "repair"
    # The person's home office in 历城区: only an employer in 历城区 itself would qualify.
    assert jy4 not in links.rows


def test_cannot_link_vetoes_a_context_link():
    f = _province()
    ctx = _ctx(registrations=[("JY3", "青岛市崂山区残疾人联合会", "2024-03-01", None, "370102")])
    jy3 = int(f.index[f["source_key"] == "JY3"][0])
    qd = int(f.index[f["source_key"] == "D2024370212000002"][0])
    assert jy3 not in link_by_context(f, ctx, cannot_link=[(jy3, qd)]).rows


def test_organ_name_naming_its_county_finds_the_organ_of_that_county():
    f = _employers([
        ("establishment", "11370211MB0000001X", "青岛市黄岛区自然资源局", "11370211MB0000001X",
         None, "370211"),
        ("establishment", "11370102MB0000002X", "济南市历下区自然资源局", "11370102MB0000002X",
         None, "370102"),
        ("org", "ZZ1", "黄岛区自然资源局", None, None, None),
        ("org", "ZZ2", "市中区自然资源局", None, None, None),  # 市中区: several cities
    ])
    links = link_by_context(f, _ctx())
    zz1 = int(f.index[f["source_key"] == "ZZ1"][0])
    zz2 = int(f.index[f["source_key"] == "ZZ2"][0])
    assert links.rows[zz1] == "MB0000001"
    assert zz2 not in links.rows


def test_shared_trade_name_without_city_or_key_gets_no_model_edges():
    f = _province()
    blind = ambiguous_name_records(f)
    assert blind[f["source"] == "employment_service"].all()
    assert not blind[f["source"] != "employment_service"].any()


def test_cores_compatible():
    assert cores_compatible("华信文化传媒集团", "华信文化传媒集团")
    assert cores_compatible("华信文化传媒", "华信文化传媒集团")
    assert not cores_compatible("华信文化传媒", "明泰机械")
    assert not cores_compatible(None, "明泰机械")


def _id(core17: str) -> str:
    return core17 + check_character(core17)


def _persons(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["id_number_raw"] = df.get("id_number_raw")
    df["id_number"] = [normalise_id(v).value if isinstance(v, str) else None
                       for v in df["id_number_raw"]]
    return prepare_persons(df)


def test_idless_mentions_link_to_the_one_fitting_person_and_stay_apart_when_two_fit():
    a, b, c = _id("37010219850312452"), _id("37010219850312453"), _id("37020219900101123")
    f = _persons([
        {"source": "disability_registry", "source_key": "r1", "full_name": "王秀英",
         "id_number_raw": a, "gender": "F", "disability_category": 4, "disability_level": 2,
         "hukou_region_code": "370102", "phone": "13800000001"},
        {"source": "disability_registry", "source_key": "r2", "full_name": "王秀英",
         "id_number_raw": b, "gender": "F", "disability_category": 4, "disability_level": 2,
         "hukou_region_code": "370102", "phone": "13800000002"},
        {"source": "disability_registry", "source_key": "r3", "full_name": "李娜",
         "id_number_raw": c, "gender": "F", "disability_category": 1, "disability_level": 3,
         "hukou_region_code": "370202"},
        # two namesakes of one county, same category and level: ambiguous
        {"source": "employment_service", "source_key": "j1", "full_name": "王秀英",
         "gender": "F", "disability_category": 4, "disability_level": 2,
         "hukou_region_code": "370102"},
        # the phone decides between them
        {"source": "unemployed_survey", "source_key": "s1", "full_name": "王秀英",
         "disability_category": 4, "disability_level": 2, "phone": "13800000002"},
        {"source": "employment_service", "source_key": "j2", "full_name": "李娜",
         "gender": "F", "disability_category": 1, "disability_level": 3,
         "hukou_region_code": "370202"},
        # same name but another level: not her
        {"source": "employment_service", "source_key": "j3", "full_name": "李娜",
         "gender": "F", "disability_category": 1, "disability_level": 1,
         "hukou_region_code": "370202"},
    ])
    fixed, ambiguous = link_idless_persons(f)
    row = {k: int(i) for i, k in zip(f.index, f["source_key"], strict=True)}
    assert fixed == {row["s1"]: b, row["j2"]: c}
    assert ambiguous[row["j1"]] and not ambiguous[row["j3"]] and ambiguous.sum() == 1


def test_idless_homophone_of_a_name_links_only_when_one_person_sounds_and_fits():
    a, b, c = _id("37012619850312452"), _id("37012619850312453"), _id("37020219900101123")
    d = _id("37030319800101123")
    f = _persons([
        {"source": "disability_registry", "source_key": "r1", "full_name": "魏英春",
         "id_number_raw": a, "gender": "F", "disability_category": 2, "disability_level": 3,
         "hukou_region_code": "370126"},
        {"source": "disability_registry", "source_key": "r2", "full_name": "王玲",
         "id_number_raw": b, "gender": "F", "disability_category": 3, "disability_level": 4,
         "hukou_region_code": "370212"},
        {"source": "disability_registry", "source_key": "r3", "full_name": "王菱",
         "id_number_raw": c, "gender": "F", "disability_category": 3, "disability_level": 4,
         "hukou_region_code": "370212"},
        # 椿 for 春: the one person of that sound, county, category and level
        {"source": "employment_service", "source_key": "j1", "full_name": "魏英椿",
         "gender": "F", "disability_category": 2, "disability_level": 3,
         "hukou_region_code": "370126"},
        # -in for -ing (铃 líng, 林 lín): two persons sound like it there: ambiguous
        {"source": "employment_service", "source_key": "j2", "full_name": "王林",
         "gender": "F", "disability_category": 3, "disability_level": 4,
         "hukou_region_code": "370212"},
        # sounds like her but another level: not her, and not ambiguous
        {"source": "employment_service", "source_key": "j3", "full_name": "魏英椿",
         "gender": "F", "disability_category": 2, "disability_level": 1,
         "hukou_region_code": "370126"},
        # sounds like her, fits, but in another county and no phone: not her
        {"source": "employment_service", "source_key": "j4", "full_name": "魏映春",
         "gender": "F", "disability_category": 2, "disability_level": 3,
         "hukou_region_code": "370102"},
        # a polyphone: 靓 is read jìng first, liàng as well — 陈亮
        {"source": "disability_registry", "source_key": "r4", "full_name": "陈亮",
         "id_number_raw": d, "gender": "M", "disability_category": 1, "disability_level": 1,
         "hukou_region_code": "370303"},
        {"source": "unemployed_survey", "source_key": "s5", "full_name": "陈靓",
         "disability_category": 1, "disability_level": 1, "hukou_region_code": "370303"},
    ])
    sounded: set[int] = set()
    fixed, ambiguous = link_idless_persons(f, sounded=sounded)
    row = {k: int(i) for i, k in zip(f.index, f["source_key"], strict=True)}
    assert fixed == {row["j1"]: a, row["s5"]: d} and sounded == {row["j1"], row["s5"]}
    assert ambiguous[row["j2"]] and ambiguous.sum() == 1
    # The console names the link for what it is.
    from entity_resolution.context import IDLESS_SOUND_RULE
    from entity_resolution.explain import link_kind_of, rule_reason

    assert link_kind_of("repair", IDLESS_SOUND_RULE) == "context"
    assert "读音相同" in rule_reason("person", "context", IDLESS_SOUND_RULE)


def test_idless_mover_links_by_the_county_its_id_names_only_at_its_employer():
    # Registered in 青岛黄岛 (370211) before moving to 济宁 (370702): the registry has the new
    # county, the ID number the old one; an employment registration still gives the old.
    a = _id("37021119720412017")
    b = _id("37021119800101123")
    f = _persons([
        {"source": "disability_registry", "source_key": "r1", "full_name": "丁海",
         "id_number_raw": a, "gender": "M", "disability_category": 4, "disability_level": 4,
         "hukou_region_code": "370702"},
        {"source": "hr", "source_key": "h1", "full_name": "丁海", "id_number_raw": a},
        {"source": "disability_registry", "source_key": "r2", "full_name": "丁海",
         "id_number_raw": b, "gender": "M", "disability_category": 4, "disability_level": 4,
         "hukou_region_code": "370211"},
        {"source": "employment_service", "source_key": "j1", "full_name": "丁海",
         "gender": "M", "disability_category": 4, "disability_level": 4,
         "hukou_region_code": "370211"},
    ])
    cores = person_employer_cores(
        pd.DataFrame({"source": ["hr", "employment_service"], "source_key": ["U1", "j1"],
                      "name": ["济宁康卓纺织有限公司", "济宁康卓纺织有限公司"]}),
        pd.DataFrame({"employee_record_id": [], "declaration_id": []}),
        pd.DataFrame({"person_key": ["h1"], "employer_key": ["U1"]}))
    row = {k: int(i) for i, k in zip(f.index, f["source_key"], strict=True)}
    # The namesake still living in 370211 fits by county: the exact pass takes him.
    fixed, _ = link_idless_persons(f, cores)
    assert fixed == {row["j1"]: b}
    # Without him, the mover is taken by the county his ID names, at his employer only.
    g = f[f["source_key"] != "r2"].reset_index(drop=True)
    g["unique_id"] = range(len(g))
    row = {k: int(i) for i, k in zip(g.index, g["source_key"], strict=True)}
    moved: set[int] = set()
    fixed, ambiguous = link_idless_persons(g, cores, moved=moved)
    assert fixed == {row["j1"]: a} and moved == {row["j1"]} and not ambiguous.any()
    # An employer the mention names that is not one of his: not linked.
    other = person_employer_cores(
        pd.DataFrame({"source": ["hr", "employment_service"], "source_key": ["U1", "j1"],
                      "name": ["济宁康卓纺织有限公司", "青岛海川电子有限公司"]}),
        pd.DataFrame({"employee_record_id": [], "declaration_id": []}),
        pd.DataFrame({"person_key": ["h1"], "employer_key": ["U1"]}))
    assert link_idless_persons(g, other)[0] == {}


def test_idless_mover_without_employer_evidence_links_only_the_one_person_of_the_name():
    # A job only the employment service knows of: the one person of that name in the data,
    # born in the county the registration gives, with its category and level, takes it.
    a = _id("37021119720412017")
    rows = [
        {"source": "disability_registry", "source_key": "r1", "full_name": "丁海",
         "id_number_raw": a, "gender": "M", "disability_category": 4, "disability_level": 4,
         "hukou_region_code": "370702"},
        {"source": "employment_service", "source_key": "j1", "full_name": "丁海",
         "gender": "M", "disability_category": 4, "disability_level": 4,
         "hukou_region_code": "370211"},
    ]
    f = _persons(rows)
    row = {k: int(i) for i, k in zip(f.index, f["source_key"], strict=True)}
    moved: set[int] = set()
    fixed, ambiguous = link_idless_persons(f, moved=moved)
    assert fixed == {row["j1"]: a} and moved == {row["j1"]} and not ambiguous.any()
    # Another level, or no level given: not linked.
    for level in (3, None):
        g = _persons([rows[0], {**rows[1], "disability_level": level}])
        assert link_idless_persons(g)[0] == {}
    # A second person of that name anywhere (born elsewhere, living elsewhere): not linked.
    g = _persons([*rows, {**rows[0], "source_key": "r2", "hukou_region_code": "370102",
                          "id_number_raw": _id("37010219800101123")}])
    assert link_idless_persons(g)[0] == {}


def test_region_from_text_reads_the_county_after_the_city():
    assert region_from_text("山东省东营市河口区") == "370503"
    assert region_from_text("山东省东营市垦利区") == "370505"
    assert region_from_text("东营市东营区") == "370502"
    assert region_from_text("东营区残联") == "370502"
    assert region_from_text("济南市历下区残疾人就业服务中心") == "370102"
    assert region_from_text("市中区残联") is None


def test_breakdown_names_split_and_mixed_mentions_per_source_and_tag():
    joined = pd.DataFrame({
        "source": ["quota", "hr", "employment_service", "employment_service", "quota", "quota"],
        "source_key": ["q1", "h1", "j1", "j2", "q2", "q3"],
        "pred": ["E1", "E1", "E9", "E1", "E2", "E2"],
        "truth": ["A", "A", "A", "B", "B", "B"],
    })
    tags = pd.DataFrame({"source": ["employment_service", "employment_service"],
                         "key": ["j1", "j2"], "tag": ["clerk_typed_name", "clerk_typed_name"]})
    out = breakdown(joined, tags)
    assert out["by_source"]["employment_service"] == {"mentions": 2, "split": 2, "mixed": 1}
    assert out["by_source"]["quota"] == {"mentions": 3, "split": 0, "mixed": 0}
    assert out["by_tag"]["clerk_typed_name"] == {"mentions": 2, "split": 2, "mixed": 1}


def test_idless_namesakes_told_apart_by_their_employer():
    a, b = _id("37010219850312452"), _id("37010219850312453")
    f = _persons([
        {"source": "disability_registry", "source_key": "r1", "full_name": "王秀英",
         "id_number_raw": a, "gender": "F", "hukou_region_code": "370102"},
        {"source": "disability_registry", "source_key": "r2", "full_name": "王秀英",
         "id_number_raw": b, "gender": "F", "hukou_region_code": "370102"},
        {"source": "quota", "source_key": "E-1", "full_name": "王秀英", "id_number_raw": b},
        {"source": "employment_service", "source_key": "j1", "full_name": "王秀英",
         "gender": "F", "hukou_region_code": "370102"},
    ])
    cores = person_employer_cores(
        pd.DataFrame({"source": ["quota", "employment_service"],
                      "source_key": ["D1", "j1"],
                      "name": ["济南华信文化传媒集团有限公司", "华信文化传媒集团有限责任公司"]}),
        pd.DataFrame({"employee_record_id": ["E-1"], "declaration_id": ["D1"]}),
        pd.DataFrame({"person_key": [], "employer_key": []}))
    row = {k: int(i) for i, k in zip(f.index, f["source_key"], strict=True)}
    # Without the employer: two namesakes of one county fit, so none is chosen.
    fixed, ambiguous = link_idless_persons(f)
    assert fixed == {} and ambiguous[row["j1"]]
    fixed, ambiguous = link_idless_persons(f, cores)
    assert fixed == {row["j1"]: b} and not ambiguous.any()


def test_an_id_ending_in_000_is_damaged_only_in_spreadsheet_sources():
    from quotalink.standardise import looks_float_damaged

    # A real, valid ID whose sequence ends in 00 and whose check character is 0.
    core = next(c for c in (f"371503198304{d:02d}{s}00" for d in range(1, 29) for s in "123")
                if check_character(c) == "0")
    ident = core + "0"
    assert looks_float_damaged(ident)
    f = _persons([
        {"source": "hr", "source_key": "h1", "full_name": "王华芳", "id_number_raw": ident},
        {"source": "training", "source_key": "t1", "full_name": "王华芳",
         "id_number_raw": ident},
    ])
    keys = dict(zip(f["source_key"], f["id_key"].astype("object"), strict=True))
    assert keys["h1"] == ident          # the social-insurance database stores text
    assert pd.isna(keys["t1"])          # a spreadsheet may have rounded it


def test_month_column_reads_months_as_month_does():
    """The column reader of build_context answers as the per-value _month."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    from entity_resolution.context import _month, _month_column

    values = [None, float("nan"), "2023-01-05", "202301", "２０２３０１", dt.date(2021, 7, 1),
              202305.0, 202306, " 2023-01", "NaT", "", "2023-1", "1999-12-31 00:00:00", pd.NA]
    got = _month_column(pd.Series(values, dtype=object))
    want = [_month(v) for v in values]
    assert [None if np.isnan(g) else int(g) for g in got] == want
    assert sum(w is not None for w in want) >= 6


def test_sound_keys_of_a_column_equal_name_sound_key():
    """The column path of the sound keys answers as name_sound_key, odd values included."""
    from entity_resolution.context import _sound_key_map, name_sound_key

    values = ["zhang sheng", "chen ying ling", "shi", "zh", "ing", "a ng", "  wang",
              "wang  wei", "wang wei ", "Zhang", "zhāng", "lü", "", None, "xing ying ming"]
    got = _sound_key_map(values)
    assert [got[v] for v in values] == [name_sound_key(v) for v in values]
    assert got["chen ying ling"] == "cen yin lin"
