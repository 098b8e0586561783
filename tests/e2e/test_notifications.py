"""Issue "Notifications", done-when 2, end to end through the gateway (RULES §5, §8, §10).

The whole system runs as `make run` starts it, with the local mail sink of the Procfile
(``infra/smtp_sink.py``) as the SMTP relay and GOV.UK Notify. Providers register and the
lead admits their establishments; a commissioner of KCC publishes a referral; each invited
establishment's contacts find one alert in the sink (and an SMS where opted in). The
providers bid, the referral closes at its deadline (the referral service is restarted with
its clock moved past it), the commissioner awards, and the winner gets its award with the
full referral while each other bidder gets its own feedback. Assertions are on what the
people would receive and what they read back through the API.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from services.common.config import get_settings
from tests.support.fixtures import Api
from tests.support.infra import wait_for
from tests.support.mail import Sink
from tests.support.places import near, random_home

V1 = "/api/v1"
CATEGORY = "RESIDENTIAL"
RADIUS = 3  # small, so that a quiet spot is easy to find however full the database
EARTH_RADIUS_MILES = 3958.8
CHILD = {
    "name": "Jordan Whitlock-Ames",
    "date_of_birth": "2012-05-17",
    "address": "3 Quarry Close, Ashford TN24 8AA",
}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def haversine(a, b) -> float:
    (la1, lo1), (la2, lo2) = [(math.radians(p[0]), math.radians(p[1])) for p in (a, b)]
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def north_of(home, miles: float):
    return (home[0] + math.degrees(miles / EARTH_RADIUS_MILES), home[1])


def _all_received(sink, addresses: set[str], subject: str) -> list[dict] | None:
    """The messages starting with ``subject`` once every address has one, else None."""
    found = [r for r in sink.emails_to(addresses) if r["subject"].startswith(subject)]
    return found if {r["to"][0] for r in found} == addresses else None


class World:
    """Providers, establishments and a referral, made through the gateway."""

    def __init__(self, stack, api):
        self.stack = stack
        self.lead = api("lead")
        self.owner = api("commissioner", authority="KCC")
        self.tag = uuid.uuid4().hex[:8]
        self.config = ok(self.lead.get(f"{V1}/categories/{CATEGORY}"))
        self.est: dict[str, dict] = {}
        self.referral_id = ""
        self.bids: dict[str, str] = {}

    def contacts(self, label: str, phone: bool = False) -> list[dict]:
        people = [{"name": f"{label} Manager", "email": f"{label.lower()}.{self.tag}@home.example"}]
        if phone:
            people.append(
                {
                    "name": f"{label} Deputy",
                    "email": f"{label.lower()}.deputy.{self.tag}@home.example",
                    "phone": f"07700 9{random.randint(0, 99999):05d}",
                    "sms_opt_in": True,
                }
            )
        return people

    def establishment(self, label: str, location, phone: bool = False) -> dict:
        registered = ok(
            Api(self.stack.url).post(
                f"{V1}/providers",
                json={
                    "name": f"{label} Homes Ltd {self.tag}",
                    "contact_email": f"office.{label.lower()}.{self.tag}@provider.example",
                },
            ),
            201,
        )
        provider = Api(self.stack.url, registered["api_key"])
        contacts = self.contacts(label, phone)
        est = ok(
            provider.post(
                f"{V1}/establishments",
                json={
                    "name": f"{label} House {self.tag}",
                    "address": f"{label} Lane, Kent",
                    "postcode": "ME1 1AA",
                    "location": {"lat": location[0], "lon": location[1]},
                    "categories": [CATEGORY],
                    "contacts": contacts,
                },
            ),
            201,
        )
        answers = {}
        for code in self.config["pass_fail_criteria"]:
            answers[code] = {"answer": f"{code} holds", "evidence": f"https://ev.example/{code}"}
            if code == "INSURANCE":
                answers[code] |= {
                    "expires_on": (date.today() + timedelta(days=400)).isoformat(),
                    "cover": {k: "20000000.00" for k in self.config["insurance_minimums"]},
                }
        application = ok(
            provider.post(
                f"{V1}/applications",
                json={
                    "establishment_id": est["id"],
                    "category": CATEGORY,
                    "pass_fail": answers,
                    "method_statements": {
                        k: f"our {k.lower()} approach"
                        for k in ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING")
                    },
                    "core_costs": {head: "300.00" for head in self.config["cost_heads"]},
                },
            ),
            201,
        )
        ok(provider.post(f"{V1}/applications/{application['id']}/submit"))
        decision = ok(
            self.lead.post(
                f"{V1}/applications/{application['id']}/decision",
                json={
                    "pass_fail": {c: {"result": "pass"} for c in answers},
                    "scores": {
                        "WORKFORCE": 70,
                        "OUTCOMES_APPROACH": 70,
                        "PERFORMANCE_MONITORING": 70,
                    },
                },
            )
        )
        assert decision["status"] == "admitted", decision
        self.est[label] = {
            "id": est["id"],
            "name": f"{label} House {self.tag}",
            "provider_id": registered["id"],
            "provider": provider,
            "contacts": contacts,
            "location": location,
        }
        return self.est[label]

    def admitted_near(self, home, radius) -> list[str]:
        page = ok(
            self.lead.get(
                f"{V1}/establishments",
                params={
                    "category": CATEGORY,
                    "status": "admitted",
                    "near": near(home),
                    "radius_miles": radius,
                    "limit": 500,
                },
            )
        )
        return [e["id"] for e in page["items"]]

    def quiet_home(self):
        rng = random.Random()
        for _ in range(50):
            home = random_home(rng)
            if not self.admitted_near(home, RADIUS + 10):
                return home
        raise AssertionError("no quiet point left in the South East")

    def url(self, suffix: str = "") -> str:
        return f"{V1}/referrals/{self.referral_id}{suffix}"

    def bid(self, label: str, per_head: str, features: list[str]) -> None:
        e = self.est[label]
        body = {
            "establishment_id": e["id"],
            "core_costs": {h: per_head for h in self.config["cost_heads"]},
            "variable_costs": [],
            "needs_met": ["N1"],
            "features_met": features,
            "outcomes_statement": f"{label}: school within a term",
        }
        self.bids[label] = ok(e["provider"].post(self.url("/bids"), json=body), 201)["bid_id"]


def emails(world: World, label: str) -> set[str]:
    return {c["email"] for c in world.est[label]["contacts"]}


@pytest.fixture(scope="module")
def world(stack, api) -> World:
    w = World(stack, api)
    home = w.quiet_home()
    layout = {
        "A": (0.5, True),
        "B": (1.2, False),
        "C": (1.9, False),
        "D": (2.6, False),
        "F": (RADIUS + 4.0, False),
    }  # F is outside the radius: never alerted
    for label, (miles, phone) in layout.items():
        w.establishment(label, north_of(home, miles), phone)
    w.home = home
    return w


@pytest.fixture(scope="module")
def sink(stack) -> Sink:
    return Sink(stack.mail_dir)


def test_publishing_alerts_each_invited_establishments_contacts_once(world, sink):
    """RULES §5, §8: one alert per contact of each invited establishment, by email, and by
    SMS to the contact who opted in; nothing identifies the child."""
    w = world
    w.spec = {
        "category": CATEGORY,
        "child_reference": f"KCC-{w.tag}",
        "children": [
            {
                "age": 14,
                "gender": "female",
                "legal_status": "s31",
                "name": CHILD["name"],
                "date_of_birth": CHILD["date_of_birth"],
            }
        ],
        "home_location": {"lat": w.home[0], "lon": w.home[1]},
        "address": CHILD["address"],
        "radius_miles": RADIUS,
        "deadline": (
            datetime.now(UTC) + timedelta(hours=w.config["min_tender_period_hours"], minutes=10)
        ).isoformat(),
        "needs": [{"code": "N1", "label": "therapeutic support", "marks": 3}],
        "features": [{"code": "M1", "label": "single occupancy", "must_have": True}],
        "desired_outcomes": ["settle in one placement"],
    }
    w.referral_id = ok(w.owner.post(f"{V1}/referrals", json=w.spec), 201)["referral_id"]
    assert ok(w.owner.post(w.url("/publish"), json={"accept_fewer": True}))["invited"] == 4
    invited = {i["establishment_id"] for i in ok(w.owner.get(w.url()))["invitations"]}
    assert invited == {w.est[x]["id"] for x in "ABCD"}

    everyone = set().union(*(emails(w, x) for x in "ABCDF"))
    expected = set().union(*(emails(w, x) for x in "ABCD"))
    subject = f"Invitation to bid: {CATEGORY} referral {w.referral_id} from KCC"

    def invitations(addresses: set[str]) -> list[dict]:
        return [r for r in sink.emails_to(addresses) if r["subject"] == subject]

    wait_for(lambda: len(invitations(everyone)) >= len(expected), 60, "the invitations in the sink")
    # one per contact of each invited establishment, none for F
    assert sorted(r["to"][0] for r in invitations(everyone)) == sorted(expected)
    for label in "ABCD":
        e = w.est[label]
        miles = math.floor(haversine(w.home, e["location"]))
        for record in invitations(emails(w, label)):
            body = sink.text(record)
            assert f"{e['name']} is invited to bid" in body
            assert f"{miles} mile" in body and "aged 14, female, legal status: s31" in body
            for secret in (
                CHILD["name"],
                "Whitlock",
                w.spec["child_reference"],
                "Quarry Close",
                "17 May 2012",
            ):
                assert secret not in body
    deputy = next(c for c in w.est["A"]["contacts"] if c.get("sms_opt_in"))
    phone = "+44" + deputy["phone"].replace(" ", "")[1:]
    [sms] = wait_for(lambda: sink.sms_to({phone}), 30, "the SMS to A's deputy")
    assert w.referral_id in sms["body"] and "aged 14" in sms["body"]
    w.sms = sms


def test_providers_and_the_commissioner_see_the_deliveries_and_receipts_complete_them(
    world, sink, stack
):
    """RULES §8, §10: the provider sees its own messages and statuses, the owning
    authority those of its referral; a Notify receipt (with the callback token) settles
    the SMS."""
    w = world
    provider_a = w.est["A"]["provider"]

    def own():
        return ok(provider_a.get(f"{V1}/notifications", params={"referral_id": w.referral_id}))[
            "items"
        ]

    def settled():
        items = own()
        return items if {i["status"] for i in items} <= {"delivered", "sent"} else None

    items = wait_for(settled, 20, "A's deliveries to settle")
    assert sorted((i["channel"], i["status"]) for i in items) == [
        ("email", "delivered"),
        ("email", "delivered"),
        ("sms", "sent"),
    ]
    theirs = ok(
        w.est["B"]["provider"].get(f"{V1}/notifications", params={"referral_id": w.referral_id})
    )["items"]
    assert [i["recipient"] for i in theirs] == sorted(emails(w, "B"))
    listed = ok(
        w.owner.get(f"{V1}/notifications", params={"referral_id": w.referral_id, "limit": 500})
    )["items"]
    assert len(listed) == 6  # 5 emails and the SMS of its referral
    escc = Api(stack.url, stack.key("commissioner", "ESCC"))
    assert ok(escc.get(f"{V1}/notifications", params={"referral_id": w.referral_id}))["items"] == []

    receipt = {
        "id": w.sms["id"],
        "reference": w.sms["reference"],
        "to": w.sms["to"][0],
        "status": "delivered",
        "created_at": datetime.now(UTC).isoformat(),
        "notification_type": "sms",
    }
    url = f"{stack.url}{V1}/notify/callbacks"
    refused = requests.post(
        url, json=receipt, timeout=10, headers={"Authorization": "Bearer not-the-token"}
    )
    assert refused.status_code == 401
    accepted = requests.post(
        url,
        json=receipt,
        timeout=10,
        headers={"Authorization": f"Bearer {stack.notify_callback_token}"},
    )
    assert accepted.status_code == 204, accepted.text
    sms_item = next(i for i in own() if i["channel"] == "sms")
    assert sms_item["status"] == "delivered"


def test_bids_get_receipts(world, sink):
    """RULES §8: bid submitted → the bidder's email receipt."""
    w = world
    w.bid("A", "200.00", ["M1"])
    w.bid("B", "300.00", ["M1"])
    w.bid("C", "150.00", [])  # misses the must-have: non-compliant (§6.2)
    for label in "ABC":
        receipts = wait_for(  # every contact's receipt, not just the first to arrive
            lambda label=label: _all_received(sink, emails(w, label), "Bid received"),
            30,
            f"{label}'s receipts",
        )
        assert {r["to"][0] for r in receipts} == emails(w, label)
    assert not [r for r in sink.emails_to(emails(w, "D")) if "Bid" in r["subject"]]


@pytest.fixture(scope="module")
def past_the_deadline(stack, world):
    """The referral service restarted with its clock past the deadline; put back after."""
    offset = world.config["min_tender_period_hours"] * 3600 + 20 * 60
    normal = dict(stack.env)
    stack.stop("referral")
    stack.env = {**normal, "DPS_CLOCK_OFFSET_SECONDS": str(offset)}
    try:
        stack.start("referral")
    finally:
        stack.env = normal
    stack.wait_healthy()
    yield
    stack.stop("referral")
    stack.start("referral")
    stack.wait_healthy()


def test_award_sends_the_winner_its_award_and_each_other_bidder_its_feedback(
    world, sink, past_the_deadline
):
    """RULES §5, §8, §13: closing tells the commissioner the count; the award goes to the
    winner with a link to the full referral and none of the child's personal data, which
    the winner reads through the API (a losing bidder gets 404); every other bidder gets
    its own feedback; the establishment that did not bid gets neither."""
    w = world
    kcc = {"placements@kent.example"}  # the demo default of DPS_COMMISSIONER_EMAILS

    def closed_mail():
        return [r for r in sink.emails_to(kcc) if w.referral_id in r["subject"]]

    [closed] = wait_for(closed_mail, 60, "the commissioner's closing message")
    assert closed["subject"] == f"Referral {w.referral_id} closed with 3 bids"

    for label in "AB":
        ok(
            w.owner.post(
                w.url(f"/bids/{w.bids[label]}/outcome-scores"),
                json={"evaluator": "Evaluator One", "score": 70},
            ),
            201,
        )
    evaluation = ok(w.owner.post(w.url("/evaluate")))
    assert evaluation["status"] == "evaluated", evaluation
    w.placement_id = ok(w.owner.post(w.url("/award"), json={}))["placement_id"]

    def outcome(label: str) -> list[dict]:
        return [
            r
            for r in sink.emails_to(emails(w, label))
            if r["subject"].startswith(("Placement awarded", "Outcome of referral"))
        ]

    wait_for(
        lambda: all(len(outcome(x)) == len(emails(w, x)) for x in "ABC"),
        60,
        "the award and feedback messages",
    )
    for record in outcome("A"):
        assert record["subject"] == (
            f"Placement awarded to {w.est['A']['name']}: referral {w.referral_id}"
        )
        body = sink.text(record)
        assert f"/referrals/{w.referral_id}" in body
        for detail in (CHILD["name"], w.spec["child_reference"], "17 May 2012", CHILD["address"],
                       CHILD["date_of_birth"], "Quarry Close"):
            assert detail not in body
    winner = w.est["A"]["provider"]
    child = ok(winner.get(w.url("/child")))
    assert child["personal_data"] == "held"
    assert (child["child_reference"], child["address"]) == (
        w.spec["child_reference"], CHILD["address"])
    assert child["children"] == [{"name": CHILD["name"], "date_of_birth": CHILD["date_of_birth"]}]
    assert ok(winner.get(w.url()))["child"]["child_reference"] == w.spec["child_reference"]
    for loser in "BC":
        assert w.est[loser]["provider"].get(w.url("/child")).status_code == 404
        assert ok(w.est[loser]["provider"].get(w.url())).get("child") is None
    b_body = sink.text(outcome("B")[0])
    assert "ranked 2 of 2 compliant bids" in b_body
    c_body = sink.text(outcome("C")[0])
    assert "not compliant, so it was not scored" in c_body
    for body in (b_body, c_body):
        assert "There were 2 compliant bids, and the winning bid scored" in body
        for secret in (CHILD["name"], w.spec["child_reference"], "Quarry Close"):
            assert secret not in body
    assert outcome("D") == []
    assert all(not outcome(x) for x in "F")


# --------------------------------------------------------------------------- RULES §13


def child_values(w: World) -> list[str]:
    return [CHILD["name"], w.spec["child_reference"], CHILD["address"], CHILD["date_of_birth"]]


def plaintext_hits(values: list[str]) -> list[tuple[str, str, str]]:
    """Every (schema, table, value) where a value stands in clear in any row of any table
    of any schema of the stack's database."""
    engine = sa.create_engine(get_settings().database_url)
    hits = []
    try:
        with engine.connect() as c:
            tables = c.execute(sa.text(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' "
                "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            )).all()
            assert len(tables) > 20, tables
            for schema, table in tables:
                for value in values:
                    found = c.execute(sa.text(
                        f'SELECT count(*) FROM "{schema}"."{table}" AS t '
                        "WHERE position(:v in t::text) > 0"
                    ), {"v": value}).scalar()
                    if found:
                        hits.append((schema, table, value))
    finally:
        engine.dispose()
    return hits


def test_no_table_of_any_schema_holds_the_childs_data_in_clear(world):
    """RULES §13: after the award (referral, outbox, contracts' placement, deliveries,
    audit trails) the child's reference, name, date of birth and address are nowhere in
    clear; the owner still reads the placement's child reference."""
    w = world
    placement = wait_for(
        lambda: (r := w.owner.get(f"{V1}/placements/{w.placement_id}")).ok and r.json(),
        60, "the placement agreement",
    )
    assert placement["child_reference"] == w.spec["child_reference"]
    assert "child_reference" not in ok(w.est["A"]["provider"].get(
        f"{V1}/placements/{w.placement_id}"))
    assert plaintext_hits(child_values(w)) == []


def test_a_legal_hold_blocks_erasure_until_lifted(world):
    """RULES §13: a legal hold recorded with its reason refuses erasure (409)."""
    w = world
    held = ok(w.owner.put(w.url("/legal-hold"), json={"reason": "care proceedings KCC/123"}))
    assert held["legal_hold"] == "care proceedings KCC/123"
    refused = w.owner.post(w.url("/erasure"), json={"reason": "subject request"})
    assert refused.status_code == 409, refused.text
    assert "legal hold" in refused.json()["detail"]
    assert ok(w.owner.get(w.url("/child")))["personal_data"] == "held"
    assert ok(w.owner.delete(w.url("/legal-hold")))["legal_hold"] is None
    assert w.est["B"]["provider"].put(
        w.url("/legal-hold"), json={"reason": "x"}).status_code == 403


def test_the_owner_exports_everything_held_about_the_child_from_every_service(world, api):
    """RULES §13 subject access: one JSON with the referral (the child's data opened), the
    placement agreement and the deliveries about it; other authorities find nothing."""
    w = world
    body = {"child_reference": w.spec["child_reference"]}
    export = ok(w.owner.post(f"{V1}/child-data/export", json=body))
    [referral] = export["referral"]["referrals"]
    assert referral["referral_id"] == w.referral_id
    assert referral["child"]["children"][0]["name"] == CHILD["name"]
    assert referral["spec"]["address"] == CHILD["address"]
    [placement] = export["contracts"]["placements"]
    assert placement["id"] == w.placement_id
    assert placement["child_reference"] == w.spec["child_reference"]
    kinds = {d["message_type"] for d in export["notifications"]["deliveries"]}
    assert {"referral_closed"} <= kinds, kinds
    assert "qualification" in export
    other = ok(api("commissioner", authority="ESCC").post(f"{V1}/child-data/export", json=body))
    assert other["referral"]["referrals"] == [] and other["contracts"]["placements"] == []
    assert w.est["A"]["provider"].post(f"{V1}/child-data/export", json=body).status_code == 403
    held = ok(w.owner.put(w.url("/legal-hold"), json={"reason": "court order"}))
    assert held["legal_hold"] == "court order"
    refused = w.owner.post(f"{V1}/child-data/erasure", json=body)
    assert refused.status_code == 409, refused.text
    ok(w.owner.delete(w.url("/legal-hold")))


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def test_an_attachment_is_stored_sealed_and_read_back_only_by_those_entitled(world):
    """Issue 12, RULES §13, §10: the owner attaches a PDF; it is stored encrypted, the
    owner and the winner download it byte for byte; a losing bidder gets 404; a renamed
    executable or an HTML page is 422, 25 MB is 413."""
    w = world
    upload = w.url("/attachments")
    headers = {"Content-Type": "application/octet-stream"}
    added = ok(w.owner.post(upload, params={"filename": "care plan.pdf"}, data=PDF,
                            headers=headers), 201)
    assert added["content_type"] == "application/pdf" and added["size"] == len(PDF)
    assert added["sha256"] == hashlib.sha256(PDF).hexdigest()
    w.attachment_id = added["attachment_id"]
    path = w.url(f"/attachments/{w.attachment_id}")
    for reader in (w.owner, w.est["A"]["provider"]):
        got = reader.get(path)
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["Content-Type"] == "application/pdf"
    [listed] = ok(w.est["A"]["provider"].get(upload))["items"]
    assert listed["attachment_id"] == w.attachment_id
    for loser in "BC":
        assert w.est[loser]["provider"].get(path).status_code == 404
        assert w.est[loser]["provider"].get(upload).status_code == 404
    exe = b"MZ\x90\x00\x03" + b"\x00" * 58 + b"PE\x00\x00" + b"\x00" * 200
    html = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    for name, body in (("report.pdf", exe), ("report.pdf", html)):
        refused = w.owner.post(upload, params={"filename": name}, data=body, headers=headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["file"]
    big = w.owner.post(upload, params={"filename": "scan.pdf"},
                       data=b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024), headers=headers)
    assert big.status_code == 413, big.text[:200]
    assert len(ok(w.owner.get(upload))["items"]) == 1  # nothing half-written
    assert plaintext_hits([PDF[:40].decode("latin-1")]) == []


def test_erasing_the_key_makes_every_copy_unreadable_and_keeps_the_records(world, api):
    """RULES §13, §9, §7.5: erasure destroys the referral's data key: the referral, the
    placement agreement and the winner's view say ``erased``; the audit chains still verify
    and the quarter's publication is the same byte for byte."""
    w = world
    lead = api("lead")
    quarter = f"{datetime.now(UTC).year}-Q{(datetime.now(UTC).month - 1) // 3 + 1}"
    publication = f"{V1}/publications/awards?quarter={quarter}&format=csv"
    before = w.owner.get(publication)
    assert before.status_code == 200 and w.placement_id in before.text
    erased = ok(w.owner.post(w.url("/erasure"), json={"reason": "retention ended early"}))
    assert erased["personal_data"] == "erased" and erased["child_reference"] is None
    assert ok(w.est["A"]["provider"].get(w.url("/child")))["personal_data"] == "erased"
    full = ok(w.owner.get(w.url()))
    assert full["personal_data"] == "erased"
    assert full["spec"]["child_reference"] == "erased"
    assert ok(w.owner.get(f"{V1}/placements/{w.placement_id}"))["child_reference"] == "erased"
    verify = ok(lead.get(f"{V1}/audit/verify"))
    assert verify["ok"] is True, verify
    assert w.owner.get(publication).content == before.content
    attachment = w.owner.get(w.url(f"/attachments/{w.attachment_id}"))
    assert attachment.status_code == 409 and "erased" in attachment.json()["detail"]
    trail = ok(lead.get(f"{V1}/audit", params={"entity_id": w.referral_id, "limit": 100}))
    actions = [r["action"] for r in trail["items"]]
    assert "referral.personal_data_erased" in actions
    assert "referral.attachment_downloaded" in actions
    assert plaintext_hits(child_values(w)) == []
