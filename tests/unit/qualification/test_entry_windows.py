"""RULES §3 (issue 13): a scheduled closure of entry, closed_from ≤ day < closed_until."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.errors import Conflict, InvalidInput
from services.qualification import domain as d

SETTINGS = d.DpsSettings(date(2017, 1, 1), date(2027, 1, 1))
WINDOW = {"closed_from": date(2017, 2, 1), "closed_until": date(2017, 4, 1)}


def test_business_case_7_19_closed_1_february_to_1_april():
    s = d.apply_dps_change(SETTINGS, WINDOW, date(2017, 1, 15))
    assert s.status(date(2017, 1, 31)) == "open"
    assert s.status(date(2017, 2, 1)) == s.status(date(2017, 3, 31)) == "entry_closed"
    with pytest.raises(Conflict, match="entry to the DPS is closed"):
        s.ensure_accepting_applications(date(2017, 3, 1))
    assert s.status(date(2017, 4, 1)) == "open" and s.window_over(date(2017, 4, 1))
    assert not s.window_over(date(2017, 3, 31))


@pytest.mark.parametrize(("patch", "field"), [
    ({"closed_from": date(2017, 2, 1)}, "closed_until"),
    ({"closed_until": date(2017, 4, 1)}, "closed_from"),
    ({"closed_from": date(2017, 4, 1), "closed_until": date(2017, 4, 1)}, "closed_until"),
    (WINDOW, "closed_until"),  # wholly in the past on 2017-05-01
])
def test_a_window_gives_both_dates_in_order_and_ends_after_today(patch, field):
    with pytest.raises(InvalidInput) as refused:
        d.apply_dps_change(SETTINGS, patch, date(2017, 5, 1))
    assert refused.value.errors[0]["loc"] == [field]
