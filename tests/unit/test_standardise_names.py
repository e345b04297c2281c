"""Unit tests of name, gender, phone and region standardisation."""

import pytest

from quotalink.standardise import (
    city_code,
    name_pinyin,
    normalise_gender,
    normalise_name,
    normalise_phone,
    normalise_region_code,
    region_from_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("王秀英", "王秀英"),
        (" 王 秀 英 ", "王秀英"),
        ("王\u3000秀英", "王秀英"),
        ("張偉", "张伟"),
        ("阿依古丽·买买提", "阿依古丽买买提"),
        ("阿依古丽•买买提", "阿依古丽买买提"),
        ("阿依古丽・买买提", "阿依古丽买买提"),
        ("阿依古丽‧买买提", "阿依古丽买买提"),
        ("ＺＨＡＮＧ", "ZHANG"),
        (None, None),
        ("", None),
        ("  ", None),
        ("123", None),
        (float("nan"), None),
    ],
)
def test_normalise_name(raw, expected):
    assert normalise_name(raw) == expected


def test_pinyin_is_toneless_and_matches_homophones():
    assert name_pinyin("王伟") == "wang wei"
    assert name_pinyin("王玮") == name_pinyin("王伟")
    assert name_pinyin("張偉") == "zhang wei"
    assert name_pinyin(None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("男", "M"), ("女", "F"), ("1", "M"), ("2", "F"), (1, "M"), (2.0, "F"), ("m", "M"),
     ("F", "F"), (" 女 ", "F"), ("未知", None), (None, None), ("3", None)],
)
def test_normalise_gender(raw, expected):
    assert normalise_gender(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("0531-86123456", "053186123456"),
        ("(0531)86123456", "053186123456"),
        ("0531-86123456-801", "053186123456"),
        ("+86-531-86123456", "053186123456"),
        ("010-62345678", "01062345678"),
        ("13812345678/13912345678", "13812345678"),
        ("1381234567", None),
        ("12812345678", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("山东省济南市历下区泉城路1号", "370102"),
        ("山东省济南市", "370100"),
        ("济南市莱芜区", "370116"),
        ("枣庄市市中区", "370402"),
        ("济南市市中区", "370103"),
        ("山东省淄博市张店区", "370303"),
        ("山東省青島市嶗山區", "370212"),
        ("山东省临沂市费县", "371325"),
        ("历下区", "370102"),
        ("市中区", None),  # in Jinan and in Zaozhuang
        ("河北省石家庄市长安区", "130000"),
        ("山东省", "370000"),
        ("370102", "370102"),
        ("火星", None),
        (None, None),
    ],
)
def test_region_from_text(text, expected):
    assert region_from_text(text) == expected


def test_region_codes():
    assert normalise_region_code(" 370102 ") == "370102"
    assert normalise_region_code(370102) == "370102"
    assert normalise_region_code("3701") is None
    assert city_code("370102") == "3701"
    assert city_code("370000") is None
