"""After the console's tests: its log holds no clear ID number or mobile phone (runs last)."""

import pytest

from tests.integration.console.conftest import SECRET

pytestmark = pytest.mark.integration


def test_console_log_has_no_clear_id_or_phone(console):
    lines = console.log.lines
    assert any("POST /api/login" in line for line in lines)  # the capture did see the traffic
    assert any("failed sign-in" in line for line in lines)
    leaks = [line for line in lines if SECRET.search(line)]
    assert leaks == []
