"""RULES §7.1 (issue 13): ``pending_start → ended`` with ``did_not_start``; such a
placement counts in no benchmark, cost share or block occupancy."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.common.errors import Conflict
from services.contracts import domain
from tests.support.contracts_builders import AWARDED_AT, placement, started


def test_a_pending_placement_ends_only_with_did_not_start():
    p = placement()
    with pytest.raises(Conflict, match="did_not_start"):
        p.end(date(2026, 3, 9), "planned")
    p.end(date(2026, 3, 9), "did_not_start")
    assert p.status is domain.PlacementStatus.ENDED
    assert p.end_reason is domain.EndReason.DID_NOT_START
    assert p.never_started and not p.in_force_on(date(2026, 3, 9))
    with pytest.raises(Conflict):
        started().end(date(2026, 4, 1), "did_not_start")


def test_it_counts_in_no_benchmark_and_no_cost_share():
    kept, gone = placement(placement_id="pl-1"), placement(placement_id="pl-2", source_ref="r2")
    gone.end(date(2026, 3, 9), "did_not_start")
    day = AWARDED_AT.date()
    figures = domain.benchmark(
        category="SEN", period_start=day, period_end=day, placements=[kept, gone],
        referrals=[], reviews=[], role="lead", reader_authority=None, secret=b"s",
    )
    assert figures["placements"] == 1
    year = day.year if day.month >= 4 else day.year - 1
    shares = domain.cost_shares(
        year=year + 1, authorities=["KCC"], placements=[kept, gone], awards=[],
        running_cost=Decimal("100.00"),
    )
    assert shares["authorities"][0]["placements_previous_year"] == 1
