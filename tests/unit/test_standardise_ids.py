"""Unit tests of resident-ID and certificate-number standardisation."""

import datetime as dt

import pytest

from quotalink.standardise import (
    birth_year_window,
    cert_category_level,
    check_character,
    id_core17,
    id_from_cert,
    looks_float_damaged,
    normalise_cert,
    normalise_id,
)

VALID = "370102198503124522"  # check character 2, born 1985-03-12, 17th digit 2 → F
VALID_X = "11010519491231002X"


def test_valid_id_gives_value_birth_date_and_gender():
    result = normalise_id(VALID)
    assert result.value == VALID
    assert result.quality == "valid"
    assert result.birth_date == dt.date(1985, 3, 12)
    assert result.gender == "F"
    assert result.region_code == "370102"


@pytest.mark.parametrize(
    "raw",
    [
        "３７０１０２１９８５０３１２４５２２",  # full-width digits
        " 370102 1985 0312 4522 ",
        "370102198503124522\u3000",
        "\t370102198503124522",
    ],
)
def test_full_width_and_spaces_are_folded(raw):
    assert normalise_id(raw).value == VALID


@pytest.mark.parametrize("raw", ["'370102198503124522", "‘370102198503124522’",
                                 '"370102198503124522"', "`370102198503124522"])
def test_spreadsheet_text_marker_and_quotes_are_dropped(raw):
    # Excel keeps an ID's digits only as text: clerks type a leading apostrophe.
    assert normalise_id(raw).value == VALID
    assert normalise_cert(raw.replace(VALID, VALID + "44")) == VALID + "44"


def test_lower_case_and_full_width_x_become_upper_case_x():
    assert normalise_id("11010519491231002x").value == VALID_X
    assert normalise_id("11010519491231002Ｘ").value == VALID_X
    assert normalise_id("11010519491231002ｘ").quality == "valid"


def test_fifteen_digit_number_is_converted_with_computed_check():
    result = normalise_id("110105491231002")
    assert result.value == VALID_X
    assert result.quality == "from_15"
    assert result.birth_date == dt.date(1949, 12, 31)
    assert normalise_id("370102850312452").value == VALID


def test_male_from_odd_seventeenth_digit():
    core = "37010219900101001"
    result = normalise_id(core + check_character(core))
    assert result.gender == "M"
    assert result.quality == "valid"


def test_certificate_number_in_id_column_gives_its_id():
    result = normalise_id(VALID + "42")
    assert result.value == VALID
    assert result.quality == "from_cert"
    assert normalise_id(VALID + "4201").quality == "from_cert"


def test_wrong_check_character_is_bad_check_but_core_is_kept():
    result = normalise_id("370102198503124527")
    assert result.value is None
    assert result.quality == "bad_check"
    assert result.birth_date is None
    assert id_core17("370102198503124527") == VALID[:17]


@pytest.mark.parametrize(
    "raw", ["3.70102198503124E+17", "3.70102198503124e17", 3.70102198503124e17,
            "370102198503124000", "370102198503124000.0"]
)
def test_excel_damaged_values_are_recognised(raw):
    result = normalise_id(raw)
    assert result.quality == "excel_damaged"
    assert result.value is None
    assert id_core17(raw) is None


@pytest.mark.parametrize("raw", [None, "", "   ", float("nan")])
def test_missing(raw):
    assert normalise_id(raw).quality == "missing"
    assert normalise_id(raw).value is None


@pytest.mark.parametrize(
    "raw", ["abc", "12345", "3701021985031245", "37010219850312452222222", object(), True, b"\xff"]
)
def test_garbage_is_malformed_and_never_raises(raw):
    assert normalise_id(raw).quality in {"malformed", "missing"}
    assert normalise_id(raw).value is None


def test_impossible_date_with_valid_check_is_malformed():
    core = "37010219851332452"  # month 13
    assert normalise_id(core + check_character(core)).quality == "malformed"


def test_certificate_number_standardised():
    assert normalise_cert(" ３７０１０２１９８５０３１２４５２２42 ") == VALID + "42"
    assert normalise_cert("11010519491231002x42") == VALID_X + "42"
    assert normalise_cert(VALID + "4201") == VALID + "4201"
    assert normalise_cert("370102198503124527" + "42") is None  # bad check in its ID
    assert normalise_cert(VALID) is None  # an ID alone is not a certificate
    assert normalise_cert(None) is None
    assert id_from_cert(VALID + "42") == VALID
    assert id_from_cert("garbage") is None


def test_certificate_category_and_level():
    assert cert_category_level(VALID + "42") == (4, 2)
    assert cert_category_level(VALID + "71") == (7, 1)
    assert cert_category_level(VALID + "95") == (None, None)
    assert cert_category_level("nope") == (None, None)


def test_birth_year_window_from_age():
    assert birth_year_window(30, dt.date(2024, 6, 1)) == (1993, 1994)
    assert birth_year_window("30", dt.date(2024, 6, 1)) == (1993, 1994)
    assert birth_year_window(None, dt.date(2024, 6, 1)) == (None, None)
    assert birth_year_window(-3, dt.date(2024, 6, 1)) == (None, None)
    assert birth_year_window(30, None) == (None, None)


@pytest.mark.parametrize(
    "raw", [VALID, "370102198503124527", "370102850312452", "3.70102198503124E+17",
            3.70102198503124e17, "370102198503124000", VALID + "42"]
)
def test_head14_survives_typos_and_excel(raw):
    from quotalink.standardise import id_head14

    assert id_head14(raw) == "37010219850312"


def test_head14_of_garbage_is_none():
    from quotalink.standardise import id_head14

    assert id_head14("abc") is None
    assert id_head14(None) is None
    assert id_head14("3.7E+17") is None


@pytest.mark.parametrize("value", ["371428196711035008", "370102198503124000"])
def test_float_read_back_ids_are_recognised(value):
    from quotalink.standardise import looks_float_damaged

    assert looks_float_damaged(value)
    assert id_core17(value) is None
    if check_character(value[:17]) != value[17]:
        assert normalise_id(value).quality == "excel_damaged"


def test_real_id_ending_in_zeros_stays_valid_but_is_marked_ambiguous():
    from quotalink.standardise import looks_float_damaged

    # A genuine ID may end in 000 (1 in ~1100): it passes its check, so it stays valid;
    # looks_float_damaged tells the linker not to trust it without corroboration.
    core = "37142519810124600"
    value = core + check_character(core)
    assert value.endswith("000")
    assert normalise_id(value).quality == "valid"
    assert looks_float_damaged(value)
    assert not looks_float_damaged("371425198101246012")


def test_column_judgements_equal_the_per_value_ones():
    """valid_id18_mask, float_damaged_rows and check_characters (prepare's column fast
    paths) answer as normalise_id, looks_float_damaged and check_character do."""
    import numpy as np
    import pandas as pd

    from quotalink.standardise import ids

    core = "37010219350315021"
    valid = core + check_character(core)
    values = [valid, valid[:17] + ("0" if valid[17] != "0" else "1"),  # wrong check
              "370102189001010010", "37010220991231001X", "370102190002290012",  # dates
              "370102200002290011", "370102193502300018",
              "370102193503150000", "370102193503149952",  # Excel's zeros; its float
              "37010219350315021x", "３７０１０２１９３５０３１５０２１８", " " + valid,
              "37010219350315021", None, ""]
    values += [c[:17] + check_character(c[:17]) for c in values[2:7]]
    column = pd.Series(values, dtype="string")
    expected = [isinstance(v, str) and normalise_id(v).value == v for v in values]
    assert ids.valid_id18_mask(column).tolist() == expected
    plain = [v for v in values if isinstance(v, str) and len(v) == 18 and v.isascii()]
    chars = ids.char_matrix(pd.Series(plain, dtype="string"), 18)
    assert ids.float_damaged_rows(chars).tolist() == [looks_float_damaged(v) for v in plain]
    digits = [v for v in plain if v[:17].isdigit()]
    checks = ids.check_characters(ids.char_matrix(pd.Series(digits, dtype="string"), 18))
    assert checks.tobytes().decode() == "".join(check_character(v[:17]) for v in digits)
    assert np.asarray(expected).sum() >= 3
