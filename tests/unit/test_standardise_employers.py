"""Unit tests of employer identifier and name standardisation."""

import pytest

from quotalink.standardise import (
    employer_name_key,
    normalise_employer_name,
    normalise_org_code,
    normalise_uscc,
    org_code_check_ok,
    org_code_of_uscc,
    uscc_check_ok,
)

USCC_OK = "91350100M000100Y43"  # a published example with a correct mod-31 check


def test_uscc_is_compacted_and_upper_cased():
    assert normalise_uscc(" 91350100m000100y43 ") == USCC_OK
    assert normalise_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == USCC_OK
    assert normalise_uscc("91350100 M000100 Y43") == USCC_OK
    assert normalise_uscc("'91350100M000100Y43") == USCC_OK  # Excel's text marker


def test_uscc_with_failing_check_is_kept_but_flagged():
    bad = USCC_OK[:-1] + "4"
    assert normalise_uscc(bad) == bad
    assert uscc_check_ok(USCC_OK) is True
    assert uscc_check_ok(bad) is False


@pytest.mark.parametrize("raw", ["91350100M000100Y4", "91350100O000100Y43", "9135010IM000100Y4",
                                 None, "", 12.5, "M0001000-1"])
def test_not_a_uscc(raw):
    assert normalise_uscc(raw) is None


def test_uscc_with_letters_in_first_eight_is_accepted():
    assert normalise_uscc("N2370102MA3C5XX0X1") == "N2370102MA3C5XX0X1"


def test_org_code():
    assert normalise_org_code("M0001000-1") == "M00010001"
    assert normalise_org_code(" m00010001 ") == "M00010001"
    assert normalise_org_code("M0001000") is None
    assert normalise_org_code(None) is None
    assert org_code_of_uscc(USCC_OK) == "M000100Y4"
    assert org_code_of_uscc("junk") is None
    assert org_code_check_ok("M000100Y4") is True
    assert org_code_check_ok("M000100Y5") is False


def test_employer_name_normalisation():
    assert normalise_employer_name(" 明泰機械（濟南）有限公司 ") == "明泰机械(济南)有限公司"
    assert normalise_employer_name("明泰机械【济南】有限 公司") == "明泰机械(济南)有限公司"
    assert normalise_employer_name("ＡＢＣ科技有限公司") == "ABC科技有限公司"
    # Free text's full-width and stray characters: one name however the clerk typed it.
    assert normalise_employer_name("abc科技有限公司") == normalise_employer_name("Ａｂｃ科技有限公司") == "ABC科技有限公司"
    assert normalise_employer_name("济南明泰机械有限公司，") == "济南明泰机械有限公司"
    assert normalise_employer_name("、济南明泰机械有限公司。") == "济南明泰机械有限公司"
    assert normalise_employer_name("济南明泰机械有限公司，历下分公司") == "济南明泰机械有限公司,历下分公司"
    assert normalise_employer_name(None) is None
    assert normalise_employer_name("  ") is None


@pytest.mark.parametrize(
    ("name", "core", "city", "is_branch", "label"),
    [
        ("济南明泰机械有限公司", "明泰机械", "济南", False, None),
        ("济南市明泰机械有限责任公司", "明泰机械", "济南", False, None),
        ("山东济南明泰机械股份有限公司", "明泰机械", "济南", False, None),
        ("山东明泰机械有限公司", "明泰机械", None, False, None),
        ("明泰机械(济南)有限公司", "明泰机械", "济南", False, None),
        ("青岛明泰机械有限公司", "明泰机械", "青岛", False, None),
        ("济南明泰机械有限公司青岛分公司", "明泰机械", "济南", True, "青岛分公司"),
        ("济南明泰机械有限公司历下分店", "明泰机械", "济南", True, "历下分店"),
        ("青岛海尔集团股份有限公司", "海尔", "青岛", False, None),
        ("济南市历下区泉城路街道办事处", "历下区泉城路街道办事处", "济南", False, None),
        ("中国银行济南分行", "中国银行济南分行", "济南", True, "分行"),
    ],
)
def test_employer_name_key(name, core, city, is_branch, label):
    key = employer_name_key(name)
    assert key.city == city
    assert key.is_branch is is_branch
    assert key.branch_label == label
    if not is_branch or label != "分行":
        assert key.core == core


def test_employer_name_key_on_garbage():
    key = employer_name_key(None)
    assert (key.core, key.city, key.is_branch, key.branch_label) == (None, None, False, None)


def test_stray_city_character_before_a_county_is_dropped():
    assert employer_name_key("市兖州区人民医院").core == "兖州区人民医院"
    assert employer_name_key("济宁市兖州区人民医院").core == "兖州区人民医院"
    assert employer_name_key("市济(济南)阳区疾病预防控制中心").core == "济阳区疾病预防控制中心"
    assert employer_name_key("济南市市政工程设计研究院").core == "市政工程设计研究院"


def test_name_starting_with_stray_city_character():
    assert employer_name_key("市润丰社会工作服务中心").core == "润丰社会工作服务中心"
