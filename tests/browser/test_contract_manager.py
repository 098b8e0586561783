"""The contract manager's journeys in a real browser (issue 11, RULES §12 page by page):
benchmarks of every authority by name with their pictures — the weekly cost distribution
per category as a box plot, time to place and bids per referral month by month — as inline
SVG with a table of the same numbers (§7.6); a commissioner sees the other authorities only
under anonymous labels (§10); an uplift set per category and cost head (§7.2); the cost
shares of a financial year (§7.7); overdue reviews and an establishment's performance
(§7.4). axe-core checks and a screenshot follow every page."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from tests.support.browser_support import make_user
from tests.support.cycle_market import Market, ok
from tests.support.infra import wait_for

pytestmark = pytest.mark.slow
CATEGORY = "SUPPORTED_ACCOMMODATION"


@pytest.fixture(scope="module")
def placed(stack, api):
    """An admitted establishment with two KCC block placements at different prices."""
    market = Market(stack, api)
    home = (round(random.uniform(50.1, 50.4), 4), round(random.uniform(-5.6, -4.9), 4))
    est = market.establishment("Avocet", home, CATEGORY)
    kcc = api("commissioner", authority="KCC")
    start = date.today() - timedelta(days=14)
    for price in ("2800.00", "3400.00"):
        body = {"establishment_id": est.id, "places": 1, "weekly_price_per_place": price,
                "start": start.isoformat(), "end": (start + timedelta(days=180)).isoformat()}
        block = wait_for(lambda b=body: (r := kcc.post("/api/v1/block-contracts", json=b))
                         .status_code == 201 and r.json(), 30, "contracts to know the member")
        ok(kcc.post(f"/api/v1/block-contracts/{block['id']}/placements",
                    json={"child_reference": f"KCC-B-{random.randrange(10**8)}",
                          "start_date": start.isoformat()}), 201)
    return est


def test_the_contract_manager_reads_benchmarks_with_pictures(stack, visitor, placed):
    manager = visitor("contract-manager-benchmarks")
    manager.sign_in(make_user("contract_manager"), label="contract manager sign in")
    manager.goto("/benchmarks", "benchmarks")
    manager.page.locator("#category").select_option(CATEGORY)
    manager.submit("Show benchmarks", "benchmarks of a category")
    box = manager.page.locator("svg[role='img']").first
    assert box.locator("title").text_content() == "Weekly cost of placements by category"
    assert "median £3100.00" in box.locator("desc").text_content()
    manager.page.get_by_text("Weekly cost by category as a table").click()
    row = manager.page.get_by_role("row", name=CATEGORY, exact=False).first
    assert "£2800.00" in row.inner_text() and "£3400.00" in row.inner_text()
    authorities = manager.page.locator("table").last.inner_text()
    assert "KCC" in manager.page.inner_text("main")  # names, for the contract manager
    assert authorities  # (the demand summary follows)
    manager.fill({"from": "2026-05-01", "to": "2026-04-01"})
    manager.submit("Show benchmarks", "benchmarks refused: to before from")
    assert "To" in manager.page.inner_text(".govuk-error-summary")

    council = visitor("commissioner-benchmarks")
    council.sign_in(make_user("commissioner", authority="SCC"), label="commissioner sign in")
    council.goto(f"/benchmarks?category={CATEGORY}", "commissioner's benchmarks")
    by_authority = council.page.locator("table", has_text="Bids per referral").last.inner_text()
    assert "KCC" not in by_authority and "Authority " in by_authority  # §10 anonymous


def test_the_contract_manager_sets_an_uplift_and_reads_cost_shares_and_reviews(
        stack, visitor, placed):
    manager = visitor("contract-manager-money")
    manager.sign_in(make_user("contract_manager"), label="contract manager sign in")
    manager.goto("/uplifts", "uplifts")
    manager.page.locator("#category").select_option(CATEGORY)
    manager.submit("Choose category", "uplift category chosen")
    manager.submit("Set uplift", "uplift refused without a percentage")
    assert "Uplift" in manager.page.inner_text(".govuk-error-summary")
    manager.fill({"percent": "3.1",
                  "effective_from": date(2031 + random.randrange(60), 4, 1).isoformat()})
    manager.submit("Set uplift", "uplift set")
    assert "goes up by 3.1" in manager.page.inner_text(".govuk-notification-banner")
    assert "3.1%" in manager.page.locator("table").last.inner_text()  # listed, newest first

    manager.goto("/cost-shares", "cost shares")
    assert "KCC" in manager.page.inner_text("table")
    manager.fill({"year": "last year"})
    manager.submit("Show", "cost shares refused")
    assert "Financial year" in manager.page.inner_text(".govuk-error-summary")

    manager.goto("/reviews", "reviews")
    manager.page.locator("#establishment_id").select_option(placed.id)
    manager.submit("Show performance", "an establishment's performance")
    assert manager.heading() == placed.name
    assert "Core competency score" in manager.page.inner_text("main")

    # §10 page by page: the lead's pages are not the contract manager's
    for path in ("/memberships", f"/memberships/{placed.id}", "/applications"):
        assert manager.page.goto(stack.url + path).status == 403, path
