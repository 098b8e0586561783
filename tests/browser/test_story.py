"""Issue 11's story in a real browser on the stack started like `make run` (RULES §12, §8):
a provider registers and signs in with a second factor, adds two establishments, applies,
copies and submits; the lead admits both; a commissioner creates and publishes a referral;
the provider follows the invitation email's link, signs in, lands on the invitation, asks
and bids; the commissioner answers, closes, scores, evaluates, records the parents' choice
and awards; the provider sees the placement; the contract manager downloads the quarter's
OCDS. axe-core checks and a screenshot follow every page (tests/support/browser_support)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.support.browser_support import PASSWORD, make_user

pytestmark = pytest.mark.slow
CATEGORY = "RESIDENTIAL"


def complete_application(page) -> None:
    """Answer every question still blank (a copy keeps the organisation's answers)."""
    for area in page.locator("textarea").all():
        if not area.input_value():
            area.fill("We hold this and can show it.")
    for field in page.locator("input[id$='-evidence']").all():
        if not field.input_value():
            field.fill("https://evidence.example/doc")
    expiry = page.locator("#pass_fail-INSURANCE-expires_on")
    if not expiry.input_value():
        expiry.fill((datetime.now(UTC).date() + timedelta(days=400)).isoformat())
    for selector, value in (("input[id^='pass_fail-INSURANCE-cover-']", "20000000.00"),
                            ("input[id^='core_costs-']", "300.00")):
        for field in page.locator(selector).all():
            if not field.input_value():
                field.fill(value)


@pytest.fixture(scope="module")
def world(stack):
    """A quiet spot in the Midlands, away from every other test's establishments (the e2e
    tests' in the South East, test_journeys' north of 53.6°, test_lead's and
    test_contract_manager's in Cornwall), and the council's users, made like `make run`'s
    demo users."""
    rng = random.Random()
    home = (round(rng.uniform(52.4, 53.0), 4), round(rng.uniform(-2.9, -1.2), 4))
    tag = uuid.uuid4().hex[:6]
    return {"home": home, "tag": tag, "lead": make_user("lead"),
            "commissioner": make_user("commissioner", authority="KCC"),
            "contract_manager": make_user("contract_manager")}


def test_the_whole_story_in_a_browser(stack, visitor, mailbox, world):
    tag, home = world["tag"], world["home"]
    provider = visitor("provider")
    me = f"owner-{tag}@harbour-homes.example"

    # --- the provider registers and signs in with a second factor ---
    provider.goto("/", "start page")
    provider.goto("/register", "register")
    provider.fill({"name": f"Harbour Homes {tag}", "contact_email": f"office-{tag}@hh.example",
                   "your_name": "Pat Owner", "your_email": me, "password": PASSWORD,
                   "password_again": PASSWORD})
    provider.submit("Register", "registered")
    assert "/sign-in" in provider.page.url
    provider.sign_in(me)
    assert provider.heading() == "Pat Owner"

    # --- two establishments ---
    contacts = []
    for i, miles_north in ((1, 0.02), (2, 0.05)):
        provider.goto("/establishments/new", f"new establishment {i}")
        contact = f"manager{i}-{tag}@hh.example"
        contacts.append(contact)
        provider.fill({"name": f"Harbour House {i} {tag}", "address": f"{i} Quay Street",
                       "postcode": "ME1 1AA", "location-lat": home[0] + miles_north,
                       "location-lon": home[1], "contacts-0-name": f"Manager {i}",
                       "contacts-0-email": contact})
        provider.page.get_by_label("Children's homes", exact=False).first.check()
        provider.submit("Save establishment", f"establishment {i} added")
        assert provider.heading() == f"Harbour House {i} {tag}"

    # --- apply, copy, complete and submit ---
    provider.goto("/establishments", "establishments")
    provider.page.get_by_role("link", name=f"Harbour House 1 {tag}").click()
    provider.check("establishment 1")
    provider.page.get_by_role("button", name=f"Apply for {CATEGORY}").click()
    provider.check("application form")
    complete_application(provider.page)
    provider.submit("Save as draft", "application saved")
    assert "draft" in provider.heading()
    provider.page.get_by_label(f"Harbour House 2 {tag}").check()
    provider.submit("Copy application", "copied")
    for name in (f"Harbour House 1 {tag}", f"Harbour House 2 {tag}"):
        provider.page.get_by_role("link", name=name).first.click()
        provider.check(f"application of {name}")
        if provider.page.get_by_text("another application").count():  # the copy
            provider.page.get_by_role("button", name="Change the answers").click()
            provider.check(f"complete the copy for {name}")
            complete_application(provider.page)
            provider.submit("Save as draft", f"copy completed for {name}")
        provider.submit("Submit application", f"submitted {name}")
        assert "submitted" in provider.heading()
        provider.goto("/applications", "applications")

    # --- the lead admits both ---
    lead = visitor("lead")
    lead.goto("/applications", "lead sent to sign in")
    assert "/sign-in" in lead.page.url
    lead.sign_in(world["lead"], label="lead sign in")
    assert lead.heading() == "Applications to decide"
    for name in (f"Harbour House 1 {tag}", f"Harbour House 2 {tag}"):
        lead.page.get_by_role("link", name=name).click()
        lead.check(f"lead opens {name}")
        for field in lead.page.locator("input[id^='scores-']").all():
            field.fill("70")
        lead.submit("Record decision", f"lead admits {name}")
        assert "admitted" in lead.page.inner_text(".govuk-notification-banner")
        assert lead.page.get_by_role("link", name=name).count() == 0  # out of the queue

    # --- a commissioner creates and publishes a referral ---
    council = visitor("commissioner")
    council.sign_in(world["commissioner"], label="commissioner sign in")
    council.goto("/referrals/new", "new referral")
    period = requests.get(f"{stack.url}/api/v1/categories/{CATEGORY}", timeout=10, headers={
        "Authorization": f"Bearer {stack.key('lead')}"}).json()["min_tender_period_hours"]
    deadline = datetime.now(ZoneInfo("Europe/London")) + timedelta(hours=period, minutes=30)
    council.page.locator("#category").select_option(CATEGORY)
    council.fill({"child_reference": f"KCC-{tag}", "children-0-age": "13",
                  "home_location-lat": home[0], "home_location-lon": home[1],
                  "radius_miles": "5", "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
                  "needs-0-code": "N1", "needs-0-label": "education on site",
                  "needs-0-marks": "3", "features-0-code": "M1",
                  "features-0-label": "single occupancy",
                  "desired_outcomes": "attend school full time"})
    council.page.locator("#features-0-must_have").check()
    council.submit("Save draft", "referral draft")
    referral_url = council.page.url
    council.submit("Publish referral", "publish refused: too few")
    if council.page.locator("#accept_fewer").count():
        council.page.locator("#accept_fewer").check()
        council.submit("Publish referral", "published")
    assert "published" in council.heading()

    # --- the provider follows the link in the invitation email ---
    invitation = mailbox.wait(contacts[0], "referral", seconds=60)
    link = mailbox.link(invitation, stack.url)
    assert link == referral_url
    bidder = visitor("provider-from-email")
    bidder.goto(link, "invitation link signed out")
    assert "/sign-in" in bidder.page.url
    bidder.sign_in(me, label="provider back")
    assert bidder.page.url == referral_url
    assert f"KCC-{tag}" not in bidder.page.content()  # §13: no child reference
    bidder.fill({"question": "Does the child need a waking night?"})
    bidder.submit("Send question", "question asked")
    for i in (1, 2):
        bidder.page.locator("#establishment_id").first.select_option(
            label=f"Harbour House {i} {tag}")
        for field in bidder.page.locator("input[id^='core_costs-']").all():
            field.fill("280.00")
        bidder.page.get_by_label("N1: education on site").check()
        bidder.page.get_by_label("M1: single occupancy").check()
        bidder.fill({"outcomes_statement": f"House {i}: full-time school within a term."})
        bidder.submit("Submit bid", f"bid {i}")
        assert "Your bid is submitted" in bidder.page.inner_text(".govuk-notification-banner")

    # --- the commissioner answers, closes, scores, evaluates, records the choice, awards -----
    council.goto(referral_url.replace(stack.url, ""), "referral with question")
    council.fill({"answer": "Yes, every night."})
    council.submit("Publish answer", "answered")
    council.submit("Close now", "closed")
    assert "closed" in council.heading(), council.page.content()[:2000]
    for n in range(2):
        council.page.locator("input[name='score']").nth(n).fill("70")
        council.page.get_by_role("button", name="Record score").nth(n).click()
        council.check(f"outcome score {n + 1}")
    council.submit("Evaluate bids", "evaluated")
    if "parent choice" in council.heading():
        council.page.locator("input[name='bid_id']").nth(1).check()
        council.submit("Record the parents' choice", "parents' choice")
    council.submit("Award placement", "awarded")
    assert "awarded" in council.heading()

    # --- the provider sees the placement ---
    bidder.goto("/placements", "provider placements")
    assert bidder.page.locator("tbody tr").count() == 1

    # --- the contract manager downloads the quarter's OCDS ---
    manager = visitor("contract-manager")
    manager.sign_in(world["contract_manager"], label="contract manager sign in")
    manager.goto("/publication", "publication")
    with manager.page.expect_download() as download:
        manager.page.get_by_role("link", name="as OCDS").click()
    package = json.loads(Path(download.value.path()).read_text())
    assert package["releases"], package
