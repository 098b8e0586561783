"""The provider's and the commissioner's remaining journeys in a real browser (issue 11,
RULES §5, §6.1, §7, §8, §12) and the child's personal data on the portal (issue 12, §13):
the market is made through the API to keep the suite quick; every page the people see is
checked with axe-core and photographed (tests/support/browser_support).

- The commissioner creates a draft with the child's name, date of birth and address,
  previews the rescaled weights for a price weight of 70 (§6.1), edits the draft, publishes
  (told to widen: too few invited), widens, moves the deadline later, sees the count of
  sealed bids, attaches the care plan and awards.
- A provider changes its bid before the deadline (§5) and reads its notifications (§8).
- Issue 12's Done-when: the winner reads the child's name, date of birth and address and
  downloads the attachment byte for byte on the portal page, while a losing bidder gets 404;
  the loser reads its feedback with each sub-score's explanation.
- The commissioner starts the placement, varies its price, records a review and ends it;
  places a legal hold that blocks erasure, lifts it and erases; exports a child's data;
  cancels another referral.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.support.browser_support import make_user
from tests.support.referral_market import CATEGORY, Market, bid_body, north_of, ok

pytestmark = pytest.mark.slow
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + uuid.uuid4().bytes * 200 + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def world(stack, api):
    """Two providers' establishments admitted a few miles from a quiet spot in the north
    (the story's and e2e tests' establishments are elsewhere), and the portal users."""
    rng = random.Random()
    home = (round(rng.uniform(53.6, 54.8), 4), round(rng.uniform(-2.9, -1.2), 4))
    market = Market(stack, api)
    winner = market.establishment("Willow", north_of(home, 2))
    loser = market.establishment("Alder", north_of(home, 40), competency_scores=(40, 40, 40))
    return {"home": home, "market": market, "winner": winner, "loser": loser,
            "tag": market.tag,
            "commissioner": make_user("commissioner", authority="KCC"),
            "winner_user": make_user("provider", provider_id=winner.provider_id),
            "loser_user": make_user("provider", provider_id=loser.provider_id)}


def test_commissioner_and_providers_journeys_and_the_childs_data(stack, api, visitor, world,
                                                                 mailbox, tmp_path):
    tag, home = world["tag"], world["home"]
    winner, loser, market = world["winner"], world["loser"], world["market"]
    child_name, dob, address = f"Rowan Quill {tag}", "2013-04-21", f"7 Larch Close {tag}, Leeds"
    reference = f"KCC-J-{tag}"

    # --- the commissioner drafts, previews the weights, edits, publishes, widens -----------
    council = visitor("journeys-commissioner")
    council.sign_in(world["commissioner"], label="commissioner sign in")
    council.goto("/referrals/new", "new referral form")
    period = market.category()["min_tender_period_hours"]
    deadline = datetime.now(ZoneInfo("Europe/London")) + timedelta(hours=period, minutes=30)
    council.page.locator("#category").select_option(CATEGORY)
    council.fill({"child_reference": reference, "children-0-name": child_name,
                  "children-0-date_of_birth": dob, "children-0-age": "13",
                  "address": address, "home_location-lat": home[0],
                  "home_location-lon": home[1], "radius_miles": "5",
                  "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
                  "needs-0-code": "N1", "needs-0-label": "education on site",
                  "needs-0-marks": "3", "needs-1-code": "N2", "needs-1-label": "therapy",
                  "needs-1-marks": "2", "features-0-code": "M1",
                  "features-0-label": "single occupancy", "features-1-code": "D1",
                  "features-1-label": "garden", "features-1-marks": "2",
                  "desired_outcomes": "attend school full time", "price_weight": "70",
                  "weekly_price_ceiling": "4500.00", "expected_weeks": "26"})  # §11.4
    council.page.locator("#features-0-must_have").check()
    council.page.locator("#price_weight").dispatch_event("change")  # live, with JavaScript
    council.page.locator("#weights-live #weights-preview").wait_for()
    live = council.page.locator("#weights-preview tbody td").all_inner_texts()
    council.submit("Preview weights", "weights previewed")  # the same without it
    cells = council.page.locator("#weights-preview tbody td").all_inner_texts()
    weights = dict(zip("PCLONF", map(int, cells), strict=True))
    assert weights["P"] == 70 and sum(weights.values()) == 100, weights  # §6.1 rescale
    assert live == cells
    assert council.page.locator("#child_reference").input_value() == reference  # kept
    council.submit("Save draft", "referral draft")
    assert reference not in council.page.title()  # tabs and history keep titles (§13)
    referral_url = council.page.url
    referral_id = referral_url.rsplit("/", 1)[-1]
    council.page.get_by_role("link", name="Change the draft").click()
    council.check("edit the draft")
    assert council.page.locator("#children-0-name").input_value() == child_name
    assert council.page.locator("#expected_weeks").input_value() == "26"
    assert reference not in council.page.title() + council.page.inner_text(".govuk-caption-l")
    council.fill({"radius_miles": "3", "desired_outcomes": "attend school full time\n"
                  "keep in touch with a sibling and Mr Hale"})
    council.submit("Save changes", "draft changed")
    assert "Your changes to the draft are saved" in council.page.inner_text(
        ".govuk-notification-banner")
    # §13: free text that looks like a name is flagged before providers can read it
    assert "Desired outcome 2 looks like a person's name" in council.page.inner_text(
        "#personal-data-warnings + ul")
    council.submit("Publish referral", "publish refused: too few")
    assert "Widen the radius" in council.page.content()  # told to widen (§5)
    council.page.locator("#accept_fewer").check()
    council.submit("Publish referral", "published")
    council.fill({"radius_miles": "50"})
    council.submit("Widen", "widened")
    assert "2 invited, 1 of them new" in council.page.inner_text(".govuk-notification-banner")
    deadline += timedelta(hours=2)
    council.fill({"deadline": deadline.strftime("%Y-%m-%dT%H:%M")})
    council.submit("Move deadline", "deadline moved")
    assert "2 invited establishments are told" in council.page.inner_text(
        ".govuk-notification-banner")  # §5 extension
    assert "published" in council.heading()

    # --- two sealed bids (by API); the commissioner sees only their count -----------------
    heads = market.category()["cost_heads"]
    won = ok(winner.provider.post(f"/api/v1/referrals/{referral_id}/bids",
                                  json=bid_body(winner, heads, "290.00")), 201)
    ok(loser.provider.post(f"/api/v1/referrals/{referral_id}/bids",
                           json=bid_body(loser, heads, "295.00")), 201)
    council.goto(f"/referrals/{referral_id}", "bids counted")
    assert "2 bids so far" in council.page.inner_text("#bids-count")
    assert "290.00" not in council.page.content()  # sealed until the deadline (§5)

    # --- the winner changes its bid before the deadline; reads its notifications ----------
    bidder = visitor("journeys-winner")
    bidder.sign_in(world["winner_user"], label="winner sign in")
    bidder.goto(f"/referrals/{referral_id}", "invitation")
    bidder.page.get_by_role("button", name="Change bid").click()
    bidder.check("change bid form")
    for field in bidder.page.locator("input[id^='core_costs-']").all():
        field.fill("250.00")
    bidder.fill({"outcomes_statement": "Willow: full-time school within four weeks."})
    bidder.submit("Save changes", "bid changed")
    assert "Your bid is changed" in bidder.page.inner_text(".govuk-notification-banner")
    bids = ok(winner.provider.get(f"/api/v1/referrals/{referral_id}/bids"))["items"]
    assert [b["core_costs"][heads[0]] for b in bids if b["bid_id"] == won["bid_id"]] == [
        "250.00"]
    invitation = mailbox.wait(f"willow-{tag}@home.example", "referral", seconds=60)
    bidder.goto("/notifications", "provider notifications")
    assert invitation["subject"] in bidder.page.inner_text("tbody")  # what it was sent (§8)

    # --- the commissioner attaches the care plan, closes, scores, evaluates, awards -------
    council.goto(f"/referrals/{referral_id}/child", "child details (owner)")
    assert child_name in council.page.content() and address in council.page.content()
    plan = tmp_path / f"care-plan-{tag}.pdf"
    plan.write_bytes(PDF)
    council.page.locator("#file").set_input_files(str(plan))
    council.submit("Attach document", "care plan attached")
    assert "is attached" in council.page.inner_text(".govuk-notification-banner")
    council.goto(f"/referrals/{referral_id}", "referral before closing")
    council.submit("Close now", "closed")
    for n in range(2):
        council.page.locator("input[name='score']").nth(n).fill("70")
        council.page.get_by_role("button", name="Record score").nth(n).click()
        council.check(f"outcome score {n + 1}")
    council.submit("Evaluate bids", "evaluated")
    assert council.page.locator("svg rect").count() >= 2  # the stacked bars
    if "parent choice" in council.heading():
        council.page.locator(f"input[name='bid_id'][value='{won['bid_id']}']").check()
        council.submit("Record the parents' choice", "parents' choice")
    council.submit("Award placement", "awarded")
    assert "awarded" in council.heading()
    awarded = ok(api("commissioner", "KCC").get(f"/api/v1/referrals/{referral_id}"))
    assert awarded["awarded_bid_id"] == won["bid_id"]

    # --- issue 12: the winner reads the child's data, a losing bidder gets 404 ------------
    bidder.goto(f"/referrals/{referral_id}", "won referral")
    bidder.page.get_by_role("link", name="Read the child's details and documents").click()
    bidder.check("child details (winner)")
    page = bidder.page.content()
    assert child_name in page and dob in page and address in page and reference in page
    with bidder.page.expect_download() as download:
        bidder.page.get_by_role("link", name=f"care-plan-{tag}.pdf").click()
    got = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(PDF).hexdigest()
    again = bidder.page.goto(f"{stack.url}/referrals/{referral_id}/child")
    bidder.check("child details (winner, again)")
    assert again.headers.get("cache-control") == "no-store"  # not kept by the browser

    other = visitor("journeys-loser")
    other.sign_in(world["loser_user"], label="loser sign in")
    response = other.page.goto(f"{stack.url}/referrals/{referral_id}/child")
    other.check("child details refused (loser)")
    assert response.status == 404 and child_name not in other.page.content()
    response = other.page.goto(f"{stack.url}/referrals/{referral_id}/child/attachments/x")
    assert response.status == 404
    other.goto(f"/referrals/{referral_id}", "loser feedback")
    feedback = other.page.inner_text("main")
    assert "Not awarded" in feedback and "How yours was computed" in feedback

    # --- the commissioner manages the placement ---
    council.goto("/placements", "placements (owner)")
    row = council.page.locator("tr", has=council.page.locator(
        f"a[href='/placements/{awarded['placement_id']}']"))
    placement = ok(api("commissioner", "KCC").get(
        f"/api/v1/placements/{awarded['placement_id']}"))
    assert placement["status"] == "pending_start"
    # the awarded price, not the £0.00 weekly cost of a placement not started yet
    assert f"£{placement['awarded_weekly_price']}" in row.inner_text()
    council.goto(f"/placements/{awarded['placement_id']}", "placement (owner)")
    # §7.1: a placement that never started can only end as did_not_start
    assert council.page.locator("#end-reason option").all_inner_texts() == [
        "The placement did not start"]
    assert "1" in council.page.inner_text("#price-children")
    council.submit("Start placement", "placement started")
    assert "active" in council.heading()
    council.fill({f"variation-core_costs-{heads[0]}": "260.00",
                  "variation-reason": "more support at night"})
    council.submit("Record variation", "price varied")
    assert "more support at night" in council.page.inner_text("main")
    for radio in council.page.locator("input[type='radio'][value='4']").all():
        radio.check()
    council.submit("Record review", "review recorded")
    assert "out of 5" in council.page.inner_text("main")
    council.page.locator("#end-reason").select_option("planned")
    council.submit("End placement", "placement ended")
    assert "ended" in council.heading()
    bidder.goto("/placements", "winner placements")
    assert bidder.page.get_by_role("link", name=awarded["placement_id"][:8]).count() == 1

    # --- legal hold, erasure, export (§13) ---
    council.goto(f"/referrals/{referral_id}/child", "child details before the hold")
    council.fill({"hold_reason": "a complaint under investigation"})
    council.submit("Place a legal hold", "legal hold placed")
    council.page.locator(".govuk-details__summary").click()
    council.fill({"erase_reason": "the family asked"})
    council.submit("Erase personal data", "erasure refused under the hold")
    assert "legal hold" in council.page.inner_text(".govuk-error-summary").lower()
    council.page.goto(f"{stack.url}/child-data")
    council.check("subject rights")
    council.fill({"child_reference": reference})
    with council.page.expect_download() as download:
        council.page.get_by_role("button", name="Export as JSON").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["child_reference"] == reference
    assert child_name in json.dumps(exported["referral"])
    council.goto(f"/referrals/{referral_id}/child", "child details held")
    council.submit("Lift the legal hold", "legal hold lifted")
    council.page.locator(".govuk-details__summary").click()
    council.fill({"erase_reason": "the family asked"})
    council.submit("Erase personal data", "erased")
    assert "erased" in council.page.inner_text("main")
    assert child_name not in council.page.content()
    bidder.goto(f"/referrals/{referral_id}/child", "winner after erasure")
    assert child_name not in bidder.page.content()

    # --- and cancels another referral, with a reason every invited provider is told (§5) --
    draft = ok(api("commissioner", "KCC").post("/api/v1/referrals", json={
        "category": CATEGORY, "child_reference": f"KCC-C-{tag}", "children": [{"age": 9}],
        "home_location": {"lat": home[0], "lon": home[1]}, "radius_miles": 5,
        "deadline": deadline.isoformat(), "desired_outcomes": ["settle at school"]}), 201)
    council.goto(f"/referrals/{draft['referral_id']}", "another draft")
    council.page.get_by_text("Cancel this referral").click()
    council.fill({"reason": "the family found a placement with relatives"})
    council.submit("Cancel referral", "cancelled")
    assert "cancelled" in council.heading()
    assert requests.get(f"{stack.url}/api/v1/audit/verify", timeout=60, headers={
        "Authorization": f"Bearer {stack.key('auditor')}"}).json()["ok"] is True  # §9


def test_provider_evidence_files_decision_reasons_and_resubmission(stack, api, visitor, world,
                                                                   tmp_path):
    """§4, §4.3, §4.5 and issue 12's uploads on the portal: a provider uploads evidence to
    its submitted application (an HTML page is refused, naming the field), reads the
    rejection's reasons; a suspended establishment resubmits the failed criterion's
    evidence with its file, which the provider then downloads byte for byte."""
    market, home = world["market"], world["home"]
    pending = market.establishment("Hazel", north_of(home, 70), decide=False)
    suspended = market.establishment("Rowan", north_of(home, 75))
    market.suspend(suspended)  # for INSPECTION (§4.5)
    lead = market.lead
    app_id = ok(pending.provider.get("/api/v1/applications"))["items"][0]["id"]

    person = visitor("journeys-evidence")
    person.sign_in(make_user("provider", provider_id=pending.provider_id),
                   label="provider sign in")
    person.goto(f"/applications/{app_id}", "submitted application")
    page_html = tmp_path / "evidence.pdf"
    page_html.write_bytes(b"<!DOCTYPE html><html><body>not a pdf</body></html>")
    person.page.locator("#criterion").select_option("FINANCIAL")
    person.page.locator("#file").set_input_files(str(page_html))
    person.submit("Upload evidence", "evidence refused")
    assert "Only PDF" in person.page.inner_text(".govuk-error-summary")
    accounts = tmp_path / "accounts.pdf"
    accounts.write_bytes(PDF)
    person.page.locator("#criterion").select_option("FINANCIAL")
    person.page.locator("#file").set_input_files(str(accounts))
    person.submit("Upload evidence", "evidence uploaded")
    assert "accounts.pdf" in person.page.inner_text("main")
    codes = market.category()["pass_fail_criteria"]
    ok(lead.post(f"/api/v1/applications/{app_id}/decision", json={
        "pass_fail": {c: ({"result": "fail", "reason": "the accounts show a loss each year"}
                          if c == "FINANCIAL" else {"result": "pass"}) for c in codes},
        "scores": {"WORKFORCE": 60, "OUTCOMES_APPROACH": 60, "PERFORMANCE_MONITORING": 60}}))
    person.goto(f"/applications/{app_id}", "rejected application")
    assert "the accounts show a loss each year" in person.page.inner_text("main")  # §4.3

    owner = visitor("journeys-resubmit")
    owner.sign_in(make_user("provider", provider_id=suspended.provider_id),
                  label="suspended provider sign in")
    owner.goto(f"/establishments/{suspended.id}", "suspended establishment")
    owner.fill({"resubmit-INSPECTION-answer": "A new inspection: Good."})
    owner.page.locator("#resubmit-INSPECTION-file").set_input_files(str(page_html))
    owner.submit("Resubmit evidence", "resubmission refused: not a pdf")
    assert "Only PDF" in owner.page.inner_text(".govuk-error-summary")  # nothing sent
    # a category the establishment does not hold: 404, not a crash
    owner.page.eval_on_selector("form[action$='/resubmission']", r"""f => f.action =
        f.action.replace(/memberships\/[^/]+\/resubmission$/, 'memberships/FOSTER/resubmission')""")
    owner.fill({"resubmit-INSPECTION-answer": "A new inspection: Good.",
                "resubmit-INSPECTION-evidence": "https://ev.example/inspection-report"})
    owner.page.get_by_role("button", name="Resubmit evidence").click()
    owner.check("resubmission for another category")
    assert owner.heading() == "Page not found"
    owner.goto(f"/establishments/{suspended.id}", "suspended establishment again")
    report = tmp_path / "inspection-report.pdf"
    report.write_bytes(PDF)
    owner.fill({"resubmit-INSPECTION-answer": "A new inspection: Good."})
    owner.page.locator("#resubmit-INSPECTION-file").set_input_files(str(report))
    owner.submit("Resubmit evidence", "evidence resubmitted")
    assert "Your new INSPECTION evidence is sent" in owner.page.inner_text(
        ".govuk-notification-banner")
    assert "Evidence waiting for the lead" in owner.page.inner_text("main")
    est = ok(suspended.provider.get(f"/api/v1/establishments/{suspended.id}"))
    owner.goto(f"/applications/{est['memberships'][0]['application_id']}", "application files")
    with owner.page.expect_download() as download:
        owner.page.get_by_role("link", name="inspection-report.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
