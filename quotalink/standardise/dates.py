"""Dates as the sources write them: ISO, slashes, 年月, compact digits, Excel serials."""

import datetime as dt
import re
from collections.abc import Sequence

from quotalink.standardise._text import BAD_VALUE, fold, is_missing, strip_spaces

_YMD = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?|月)?(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_SERIAL = re.compile(r"^\d{1,5}(\.\d+)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serial numbers outside this window are not plausible dates in our sources.
_SERIAL_RANGE = (1, 73051)  # 1900-01-01 … 2099-12-31


def _from_parts(year: str, month: str, day: str | None) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day) if day else 1)
    except ValueError:
        return None


def _from_serial(number: float) -> dt.date | None:
    if not _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        return None
    return _EXCEL_EPOCH + dt.timedelta(days=int(number))


def parse_date(raw: object, formats: Sequence[str] | None = None) -> dt.date | None:
    """A date from any format the sources use; month-only values give the first of the month.

    Accepts date/datetime objects, '2023-05-01', '2023/5/1', '2023年5月', '2023.05',
    '2023-05', '20230501', '202305', datetime strings, and Excel serial numbers. When
    `formats` (strptime patterns) is given, only those patterns are tried for text.
    Returns None (never raises) for anything else.
    """
    try:
        if is_missing(raw):
            return None
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float):
            if isinstance(raw, int) and 19000101 <= raw <= 20991231:
                return _from_parts(str(raw)[:4], str(raw)[4:6], str(raw)[6:])
            return _from_serial(float(raw))
        text = fold(raw)
        if text is None:
            return None
        text = text.strip()
        if formats:
            for pattern in formats:
                try:
                    return dt.datetime.strptime(text, pattern).date()
                except ValueError:
                    continue
            return None
        compact = strip_spaces(text) if "年" in text else text
        match = _YMD.match(compact)
        if match:
            return _from_parts(*match.groups())
        match = _COMPACT.match(compact)
        if match:
            return _from_parts(*match.groups())
        if _SERIAL.match(compact):
            return _from_serial(float(compact))
        return None
    except BAD_VALUE:
        return None
