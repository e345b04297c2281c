"""How delivered cell values are rendered as text for the raw layer."""

import datetime as dt

from connectors.base import _cell
from quotalink.standardise import normalise_id


def test_excel_float_id_stays_recognisably_damaged():
    text = _cell(3.70102198503124e17)
    assert text == "3.70102198503124E+17"
    assert normalise_id(text).quality == "excel_damaged"


def test_plain_cells():
    assert _cell(12.0) == "12"
    assert _cell(2450.5) == "2450.5"
    assert _cell(dt.datetime(2024, 5, 1)) == "2024-05-01"
    assert _cell(dt.datetime(2024, 5, 1, 9, 30)) == "2024-05-01 09:30:00"
    assert _cell("  ") is None and _cell(None) is None
