"""The Procurement Act notices page in the browser (issue 14, RULES §11.4, §10): the lead
finds it from the home page, sees the due list and the feed, filters the feed by type and
marks a notice published on Find a Tender, after which it leaves the due list; the contract
manager reads it too; a commissioner cannot. Notices come from a dynamic market's events,
delivered to the contracts service's queues as qualification and the referral service send
them (with the fields of their published messages). axe-core checks every page visited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from tests.support import notices_events as ev
from tests.support.browser_support import make_user
from tests.support.contracts_events import award_payload, publish, uid
from tests.support.infra import wait_for

pytestmark = pytest.mark.slow


def seed_market(stack) -> dict:
    """A dynamic market established, a member admitted, a referral published and awarded
    (its UK6 due today); waits until the lead's API lists them."""
    dps_id = uid("mkt-")
    referral_id = uid("ref-")
    publish("qualification", "market_created", ev.market(dps_id))
    publish("qualification", "market_established", ev.market(dps_id))
    publish("qualification", "membership_admitted", ev.membership(dps_id))
    publish("referral", "referral_published", ev.referral_published(referral_id, dps_id))
    at = datetime.now(UTC)
    publish("referral", "referral_awarded", award_payload(
        referral_id=referral_id, awarded_at=at, **ev.award_fields(dps_id, at=at)))
    key = stack.key("lead")

    def listed():
        response = requests.get(f"{stack.url}/api/v1/notices", timeout=10,
                                headers={"Authorization": f"Bearer {key}"},
                                params={"type": "UK6"})
        return any(i["notice_id"] == f"UK6:{referral_id}" for i in response.json()["items"])

    wait_for(listed, 30, "the award notice raised")
    return {"dps_id": dps_id, "referral_id": referral_id}


def test_s11_4_the_lead_reads_the_notices_and_marks_one_published(stack, visitor):
    seeded = seed_market(stack)
    uk4 = f"ocds-dpsse1-{seeded['referral_id']}"
    lead = visitor("notices-lead")
    lead.sign_in(make_user("lead"), label="lead sign in")
    lead.goto("/", "lead home")
    lead.page.get_by_role("link", name="Procurement Act notices").click()
    lead.check("notices")
    assert lead.heading() == "Procurement Act notices"
    due = lead.page.locator("#due-table")
    assert due.locator("tr", has_text="UK6: Contract award notice").filter(
        has_text=uk4).count() == 1

    lead.page.select_option("#type", "UK14")
    lead.submit("Show", "notices of type UK14")
    feed = lead.page.locator("#feed-table").inner_text()
    assert f"ocds-dpsse1-{seeded['dps_id']}" in feed
    assert "UK4:" not in feed and "UK6:" not in feed

    row = lead.page.locator("#due-table tr", has_text="UK4: Tender notice").filter(
        has_text=uk4)
    row.get_by_label("Find a Tender notice id").fill("012345-2026")
    row.get_by_role("button", name="Mark published").click()
    lead.check("a notice marked published")
    assert lead.page.locator("#due-table tr", has_text="UK4: Tender notice").filter(
        has_text=uk4).count() == 0
    published = lead.page.locator("#feed-table tr", has_text="012345-2026")
    assert uk4 in published.first.inner_text()


def test_s10_the_contract_manager_reads_notices_and_a_commissioner_cannot(stack, visitor):
    seed_market(stack)
    manager = visitor("notices-manager")
    manager.sign_in(make_user("contract_manager"), label="manager sign in")
    manager.goto("/", "manager home")
    manager.page.get_by_role("link", name="Procurement Act notices").click()
    manager.check("notices for the contract manager")
    assert manager.heading() == "Procurement Act notices"
    # s.38: the market's 1.5 % of the award's estimated value (£780,000) is the supplier's
    manager.goto("/cost-shares", "cost shares with supplier fees")
    table = manager.page.locator("table", has_text="Fees charged to awarded suppliers")
    assert "£11700.00" in table.inner_text()
    commissioner = visitor("notices-commissioner")
    commissioner.sign_in(make_user("commissioner", authority="KCC"), label="kcc sign in")
    response = commissioner.page.goto(f"{stack.url}/notices")
    assert response.status == 403
    commissioner.check("notices refused")


def test_s11_4_a_bad_find_a_tender_id_is_named(stack, visitor):
    seed_market(stack)
    lead = visitor("notices-bad-id")
    lead.sign_in(make_user("lead"), label="lead sign in for a bad id")
    lead.goto("/notices", "notices before a bad id")
    row = lead.page.locator("#due-table tbody tr").first
    row.locator("input[name=fts_notice_id]").fill("not an id!")
    row.get_by_role("button", name="Mark published").click()
    lead.check("a bad notice id")
    assert "Find a Tender notice id" in lead.page.locator(".govuk-error-summary").inner_text()
