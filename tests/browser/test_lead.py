"""The lead's journeys in a real browser (issue 11, RULES §12 page by page): the
application queue and a decision with a failed criterion's reason (§4.3); an inspection
recorded (§4.1); a membership suspended for a criterion, reinstated once the provider
resubmits its evidence, re-verified and removed (§4.5); the DPS's regime and latest end, a
PCR DPS's period change refused with the reason (§11.1), entry closed and reopened and a
scheduled closure (§3); a category setting changed as a new
version, every version readable (§2). Settings every other test relies on are put back as
they were, in the browser, and in any case by the API at the end. axe-core checks and a
screenshot follow every page."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from tests.support.browser_support import make_user
from tests.support.cycle_market import Market, ok

pytestmark = pytest.mark.slow
CATEGORY = "SUPPORTED_ACCOMMODATION"


@pytest.fixture(scope="module")
def market(stack, api):
    return Market(stack, api)


def far_away() -> tuple[float, float]:
    """Cornwall, away from every other test's referrals."""
    return (round(random.uniform(50.1, 50.4), 4), round(random.uniform(-5.6, -4.9), 4))


def test_the_lead_decides_and_manages_memberships(stack, visitor, market):
    admitted = market.establishment("Kestrel", far_away(), CATEGORY)
    waiting = market.establishment("Plover", far_away(), CATEGORY, decide=False)
    lead = visitor("lead-journeys")
    lead.sign_in(make_user("lead"), label="lead sign in")

    # --- the queue, and a rejection with its reason (§4.3) ---
    lead.goto("/applications", "queue")
    lead.page.get_by_role("link", name=waiting.name).click()
    lead.check("application to decide")
    lead.fill({"reason": "Waiting for the accountant's letter"})  # §4.3: 15 working days
    lead.submit("Extend the evaluation", "evaluation extended")
    assert "the decision is now due on" in lead.page.inner_text(".govuk-notification-banner")
    lead.page.locator("#pass_fail-FINANCIAL-result-2").check()  # Fail
    lead.fill({"pass_fail-FINANCIAL-reason": "Accounts show a going-concern warning"})
    for field in lead.page.locator("input[id^='scores-']").all():
        field.fill("60")
    lead.submit("Record decision", "rejected")
    assert "rejected" in lead.page.inner_text(".govuk-notification-banner")

    # --- an inspection, then suspension and reinstatement (§4.1, §4.5) ---
    lead.goto(f"/memberships?category={CATEGORY}", "memberships")
    lead.page.get_by_role("link", name=admitted.name).first.click()
    lead.check("establishment memberships")
    lead.page.locator("#inspection-grade").select_option("GOOD")
    lead.fill({"inspection-date": (date.today() - timedelta(days=10)).isoformat()})
    lead.submit("Record inspection", "inspection recorded")
    assert "Good" in lead.page.inner_text("table")

    lead.page.get_by_text(f"Suspend {CATEGORY} for a criterion").click()
    lead.submit(f"Suspend {CATEGORY}", "suspension refused without a reason")
    assert "Reason" in lead.page.inner_text(".govuk-error-summary")
    lead.page.locator(f"#{CATEGORY}-criterion").select_option("SAFEGUARDING")
    lead.fill({f"{CATEGORY}-reason": "The safeguarding lead has left and is not replaced"})
    lead.submit(f"Suspend {CATEGORY}", "suspended")
    assert "suspended" in lead.heading() or "suspended" in lead.page.inner_text("main")
    assert "Waiting for the provider" in lead.page.inner_text("main")

    ok(admitted.provider.post(
        f"/api/v1/establishments/{admitted.id}/memberships/{CATEGORY}/resubmission",
        json={"criterion": "SAFEGUARDING", "answer": "A new safeguarding lead started",
              "evidence": "https://ev.example/new-safeguarding-lead"}))
    lead.goto(f"/memberships/{admitted.id}", "resubmitted")
    lead.submit(f"Accept the evidence and reinstate {CATEGORY}", "reinstated")
    assert "admitted again" in lead.page.inner_text(".govuk-notification-banner")
    assert "reinstated by lead" in lead.page.inner_text("main")

    # --- the yearly re-verification, then removal (§4.5) ---
    lead.page.get_by_text(f"Record the yearly re-verification of {CATEGORY}").click()
    lead.submit(f"Record re-verification of {CATEGORY}", "re-verified")
    assert "next is due in a year" in lead.page.inner_text(".govuk-notification-banner")
    lead.page.get_by_text(f"Remove the {CATEGORY} membership from the DPS").click()
    lead.submit(f"Remove {CATEGORY} membership", "removal refused without a reason")
    assert "Reason for removal" in lead.page.inner_text(".govuk-error-summary")
    lead.fill({f"{CATEGORY}-removal_reason": "The home closed"})
    lead.submit(f"Remove {CATEGORY} membership", "removed")
    assert "removed" in lead.page.inner_text(".govuk-notification-banner")

    # §10 page by page: uplifts and the contract manager's reviews are not the lead's
    for path in ("/uplifts", "/reviews"):
        assert lead.page.goto(stack.url + path).status == 403, path


def test_the_lead_changes_dps_and_category_settings(stack, visitor, market):
    before = ok(market.lead.get("/api/v1/dps"))
    lead = visitor("lead-settings")
    lead.sign_in(make_user("lead"), label="lead sign in")
    try:
        # --- period of validity and entry windows (§3) ---
        response = lead.page.goto(f"{stack.url}/dps")
        lead.check("dps settings")
        assert response.headers.get("cache-control") == "no-store"  # any signed-in page
        assert before["regime"] == "PCR2015_DPS"  # the default market, dps-1 (§11.1)
        summary = lead.page.inner_text(".govuk-summary-list")
        assert "PCR 2015 dynamic purchasing system" in summary
        assert before["expires_at_latest"] in summary
        assert "could not be changed after 23 February 2026" in lead.page.inner_text(
            "#pcr-period")
        assert "PCR 2015" in lead.page.inner_text("#markets")
        # §11.1, SI 2024/716 reg 5: the period of a PCR DPS is fixed; the page says why
        longer = (date.fromisoformat(before["valid_to"]) - timedelta(days=30)).isoformat()
        lead.fill({"valid_to": longer})
        lead.submit("Change the period", "period refused: a PCR DPS's period is fixed")
        refusal = lead.page.inner_text(".govuk-error-summary")
        assert "cannot be changed after 23 February 2026" in refusal
        assert "End of validity" in refusal
        assert before["valid_to"] in lead.page.inner_text(".govuk-summary-list")
        lead.submit("Close entry now", "entry closed")
        assert "closed to new applications" in lead.page.inner_text(".govuk-summary-list")
        lead.submit("Reopen entry", "entry reopened")
        assert "open to applications" in lead.page.inner_text(".govuk-summary-list")
        start = date.today() + timedelta(days=200)
        lead.fill({"closed_from": (start + timedelta(days=30)).isoformat(),
                   "closed_until": start.isoformat()})
        lead.submit("Schedule the closure", "closure refused: ends before it starts")
        assert "Reopens on" in lead.page.inner_text(".govuk-error-summary")
        lead.fill({"closed_from": start.isoformat(),
                   "closed_until": (start + timedelta(days=30)).isoformat()})
        lead.submit("Schedule the closure", "closure scheduled")
        assert f"{start.isoformat()} until" in lead.page.inner_text(".govuk-summary-list")
        lead.submit("Cancel the scheduled closure", "closure cancelled")

        # --- category settings: each change a version (§2) ---
        lead.goto("/categories", "categories")
        lead.page.get_by_role("link", name="Alternative education", exact=False).click()
        lead.check("category")
        version = int(lead.heading().rsplit(" ", 1)[-1])
        months = lead.page.locator("#competency_period_months").input_value()
        lead.submit("Save as a new version", "nothing changed")
        assert "Nothing is changed" in lead.page.inner_text(".govuk-error-summary")
        lead.fill({"competency_period_months": str(int(months) + 6)})
        lead.submit("Save as a new version", "saved as a new version")
        assert f"version {version + 1}" in lead.page.inner_text(".govuk-notification-banner")
        lead.page.get_by_role("link", name=f"Version {version}", exact=True).click()
        lead.check("an earlier version")
        assert "(not in force)" in lead.heading()
        lead.goto("/categories/ALT_EDUCATION", "category again")
        assert "changed" in lead.page.inner_text(".govuk-summary-list")
        lead.fill({"competency_period_months": months})
        lead.submit("Save as a new version", "setting put back")
    finally:
        # the period is fixed (§11.1): only entry and the scheduled closure are put back
        ok(market.lead.patch("/api/v1/dps", json={
            k: before[k] for k in ("entry_open", "closed_from", "closed_until")}))
