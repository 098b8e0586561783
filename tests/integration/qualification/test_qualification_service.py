"""The qualification service in a real nameko container on RabbitMQ and PostgreSQL (issue 3).

Events go through the outbox and the relay (DESIGN rule 3): each is emitted once per state
change, and those recorded while the relay is down are published when it comes back.
The service's clock is a ``FixedClock`` the tests move (DESIGN rule 4: injectable clock).
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import kombu
import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.timer import timer
from sqlalchemy import func, select

from services.common.clock import FixedClock, utcnow
from services.common.config import get_settings
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.relay import Relay
from services.common.runtime import Database
from services.common.uow import verify_audit
from services.contracts.messages import PerformanceReviewed as ContractsPerformanceReviewed
from services.contracts.messages import UpliftSet as ContractsUpliftSet
from services.qualification import store
from services.qualification.domain import GeoPoint, haversine_miles, london_date
from services.qualification.service import QualificationService
from tests.support import qualification_samples as samples
from tests.support.containers import engine_fixture, principal_context, service_fixture
from tests.support.infra import wait_for

START = utcnow().replace(hour=10, minute=0, second=0, microsecond=0)
CLOCK = FixedClock(START)


class ClockedQualification(QualificationService):
    """The real service with the test's clock and a fast evidence timer."""

    db = Database(store.metadata, clock=CLOCK, store=store.Store)

    @timer(interval=0.3)
    def evidence_timer(self) -> None:
        self.check_evidence()


LEAD = {"id": "k-lead", "role": "lead", "authority": "WSCC", "provider_id": None}


def provider(provider_id: str) -> dict:
    return {
        "id": f"k-{provider_id}",
        "role": "provider",
        "authority": None,
        "provider_id": provider_id,
    }


@pytest.fixture(autouse=True)
def _clock():
    CLOCK.at = START
    yield
    CLOCK.at = START


engine = engine_fixture()
service = service_fixture(ClockedQualification)


@pytest.fixture
def call(config):
    """``call(principal).method(...)``: an RPC proxy carrying the principal as the gateway
    does."""

    @contextmanager
    def make(principal: dict | None = None):
        with ClusterRpcProxy(config, context_data=principal_context(principal)) as proxy:
            yield proxy.qualification

    return make


class RelayThread:
    def __init__(self):
        self.stop_event = threading.Event()
        self.thread = None

    def start(self):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=Relay(["qualification"], self.stop_event).run, daemon=True
        )
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(15)
        assert not self.thread.is_alive()


@pytest.fixture
def relay():
    r = RelayThread()
    r.start()
    yield r
    r.stop_event.set()
    if r.thread:
        r.thread.join(15)


class Captured:
    """Every event published on ``qualification.events`` while the test runs."""

    def __init__(self):
        self.conn = kombu.Connection(get_settings().amqp_uri)
        exchange = kombu.Exchange("qualification.events", type="topic", durable=True)
        self.queue = kombu.Queue(
            f"test-qualification-{uuid.uuid4().hex}",
            exchange=exchange,
            routing_key="#",
            exclusive=True,
            auto_delete=True,
        )(self.conn.channel())
        self.queue.declare()
        self.items: list[tuple[str, dict]] = []

    def drain(self) -> list[tuple[str, dict]]:
        while (message := self.queue.get(no_ack=True)) is not None:
            self.items.append((message.delivery_info["routing_key"], message.payload))
        return self.items

    def about(self, establishment_id: str) -> list[tuple[str, dict]]:
        return [(t, p) for t, p in self.drain() if p.get("establishment_id") == establishment_id]

    def types(self, establishment_id: str) -> Counter:
        return Counter(t for t, _ in self.about(establishment_id))

    def close(self):
        self.conn.release()


@pytest.fixture
def events():
    captured = Captured()
    yield captured
    captured.close()


def _sen(call) -> dict:
    with call(LEAD) as q:
        return q.get_category("SEN")


def _submitted(
    call,
    provider_id: str,
    config: dict,
    name: str,
    *,
    lat=samples.BRIGHTON[0],
    lon=samples.BRIGHTON[1],
    **application,
) -> tuple[dict, dict]:
    """A new establishment of ``provider_id`` and its submitted SEN application (views);
    ``application``: keywords of ``samples.application_body``."""
    today = london_date(CLOCK.now())
    with call(provider(provider_id)) as q:
        est = q.create_establishment(samples.establishment_body(samples.unique(name), lat, lon))
        app = q.create_application(
            samples.application_body(config, est["id"], today, **application)
        )
        return est, q.submit_application(app["id"])


def _admitted(
    call,
    provider_id: str,
    config: dict,
    *,
    lat=samples.BRIGHTON[0],
    lon=samples.BRIGHTON[1],
    insurance_expires=None,
    amount="300.00",
) -> dict:
    """An establishment of ``provider_id`` admitted in SEN; returns its view."""
    est, app = _submitted(
        call,
        provider_id,
        config,
        "Downs School",
        lat=lat,
        lon=lon,
        insurance_expires=insurance_expires,
        amount=amount,
    )
    with call(LEAD) as q:
        decided = q.decide_application(app["id"], samples.decision_body(config))
    assert decided["status"] == "admitted"
    return est


def _membership(call, establishment_id: str, category: str = "SEN") -> dict:
    with call(LEAD) as q:
        est = q.get_establishment(establishment_id)
    return next(
        ms for ms in est["memberships"] if ms["category"] == category and ms["status"] != "removed"
    )


def test_each_event_is_emitted_once_per_state_change_and_survives_a_relay_restart(
    service, call, relay, events, engine
):
    config = _sen(call)
    pid = f"p-{uuid.uuid4()}"
    today = london_date(CLOCK.now())
    est, app = _submitted(call, pid, config, "Weald School")
    with call(LEAD) as q:
        q.decide_application(app["id"], samples.decision_body(config))
    expected = {
        "application_decided": 1,
        "membership_admitted": 1,
    }
    wait_for(lambda: events.types(est["id"]) == expected, 15, "the first events")

    relay.stop()  # events recorded now wait in the outbox
    inadequate = {"body": "OFSTED", "grade": "INADEQUATE", "date": today.isoformat()}
    with call(LEAD) as q:
        q.record_inspection(est["id"], inadequate)
        q.record_inspection(est["id"], inadequate)  # already suspended for it: no new event
    good = samples.evidence("INSPECTION", today)
    good["judgement"] = {"body": "OFSTED", "grade": "GOOD", "date": today.isoformat()}
    with call(provider(pid)) as q:
        q.resubmit_evidence(est["id"], "SEN", good)
    with call(LEAD) as q:
        reinstated = q.reinstate_membership(est["id"], "SEN")
    assert reinstated["status"] == "admitted"
    assert [h["kind"] for h in reinstated["history"]] == [
        "admitted",
        "suspended",
        "resubmitted",
        "reinstated",
    ]
    assert events.types(est["id"]) == expected  # nothing published while the relay is down

    relay.start()
    expected |= {"membership_suspended": 1, "membership_reinstated": 1}
    wait_for(lambda: events.types(est["id"]) == expected, 15, "the events kept in the outbox")
    suspended = next(p for t, p in events.about(est["id"]) if t == "membership_suspended")
    assert suspended["criterion"] == "INSPECTION" and suspended["suspended_by"] == "system"
    assert suspended["provider_id"] == pid and suspended["contacts"][0]["email"]
    ids = [p["event_id"] for _, p in events.about(est["id"])]
    assert len(ids) == len(set(ids))

    outbox = store.TABLES["outbox"]
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count())
                .select_from(outbox)
                .where(
                    outbox.c.sent_at.is_(None),
                    outbox.c.payload["establishment_id"].astext == est["id"],
                )
            ).scalar_one()
            == 0
        )
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            assert verify_audit(session, store.TABLES).ok
    with call(LEAD) as q:
        trail = q.audit_records({"entity_id": reinstated["id"], "limit": 1000})
    assert [r["action"] for r in trail] == [
        "membership.admitted",
        "membership.suspended",
        "membership.evidence_resubmitted",
        "membership.reinstated",
    ]
    assert trail[1]["actor"]["role"] == "lead" and trail[1]["after"]["status"] == "suspended"


def test_expiring_evidence_is_reminded_once_then_suspends_on_expiry_by_the_timer(
    service, container_factory, call, relay, events
):
    """Two instances run the timer at once (DESIGN rule 4): still one event per change."""
    container_factory(ClockedQualification).start()
    config = _sen(call)
    expires = london_date(CLOCK.now()) + timedelta(days=20)
    ests = [
        _admitted(call, f"p-{uuid.uuid4()}", config, insurance_expires=expires) for _ in range(3)
    ]
    for est in ests:
        wait_for(lambda e=est: events.types(e["id"])["evidence_expiring"] == 1, 15, "reminder")
    reminder = next(p for t, p in events.about(ests[0]["id"]) if t == "evidence_expiring")
    assert (reminder["criterion"], reminder["expires_on"], reminder["days_left"]) == (
        "INSURANCE",
        expires.isoformat(),
        20,
    )
    assert reminder["contacts"][0]["sms_opt_in"] is True

    CLOCK.advance(days=10)  # the timers keep running: still one reminder per item and date
    with call() as q:
        q.check_evidence()
    assert _membership(call, ests[0]["id"])["status"] == "admitted"

    CLOCK.advance(days=10)  # the expiry date: suspended for INSURANCE by the system
    for est in ests:
        wait_for(lambda e=est: events.types(e["id"])["membership_suspended"] == 1, 15, "suspend")
    ms = _membership(call, ests[0]["id"])
    assert ms["status"] == "suspended"
    assert ms["open_failures"] == [
        {
            "criterion": "INSURANCE",
            "reason": f"the evidence expired on {expires} and was not renewed",
        }
    ]
    assert ms["history"][-1]["by"] == "system"
    with call() as q:
        q.check_evidence()
        eligible = q.eligible_establishments(
            {
                "category": "SEN",
                "lat": samples.BRIGHTON[0],
                "lon": samples.BRIGHTON[1],
                "radius_miles": 5,
                "authority": "KCC",
            }
        )
    assert not {e["id"] for e in ests} & {e["establishment_id"] for e in eligible}
    for est in ests:
        assert events.types(est["id"]) == {
            "application_decided": 1,
            "membership_admitted": 1,
            "evidence_expiring": 1,
            "membership_suspended": 1,
        }


def test_performance_reviews_from_contracts_move_competency_once_per_period(
    service, call, relay, events, config
):
    sen = _sen(call)
    est = _admitted(call, f"p-{uuid.uuid4()}", sen)
    assert _membership(call, est["id"])["competency"] == 79.0
    dispatch = event_dispatcher(config)

    def review(start, end, index, event_id=None):
        event = ContractsPerformanceReviewed(
            event_id=event_id or str(uuid.uuid4()),
            occurred_at=CLOCK.now(),
            establishment_id=est["id"],
            category="SEN",
            period_start=start,
            period_end=end,
            performance_index=Decimal(index),
            reviews_count=3,
        )
        dispatch("contracts", "performance_reviewed", event.model_dump(mode="json"))
        return event.event_id

    today = london_date(CLOCK.now())
    first = review(today - timedelta(days=180), today, "100.00")
    review(today - timedelta(days=180), today, "100.00", event_id=first)  # redelivered
    wait_for(lambda: _membership(call, est["id"])["competency"] == 89.0, 15, "the move")
    # a second review for a period starting within 6 months of the last: no move (§4.5)
    review(today - timedelta(days=90), today + timedelta(days=90), "0.00")
    # the next period moves again, bounded to 10 points (§7.4)
    review(today + timedelta(days=3), today + timedelta(days=183), "0.00")
    wait_for(lambda: _membership(call, est["id"])["competency"] == 79.0, 15, "second move")
    ms = _membership(call, est["id"])
    assert [(mv["old"], mv["new"]) for mv in ms["competency_moves"]] == [(79.0, 89.0), (89.0, 79.0)]
    wait_for(lambda: events.types(est["id"])["competency_changed"] == 2, 15, "events")
    changed = [p for t, p in events.about(est["id"]) if t == "competency_changed"]
    assert [(c["old"], c["new"], c["performance_index"]) for c in changed] == [
        (79.0, 89.0, 100.0),
        (89.0, 79.0, 0.0),
    ]


def test_uplift_from_contracts_applies_once_and_keeps_the_price_history(
    service, call, relay, events, config
):
    sen = _sen(call)
    est = _admitted(call, f"p-{uuid.uuid4()}", sen, amount="1000.00")
    effective = london_date(CLOCK.now())
    uplift_id = str(uuid.uuid4())
    dispatch = event_dispatcher(config)
    payload = ContractsUpliftSet(
        uplift_id=uplift_id,
        category="SEN",
        cost_head="staff_related",
        percent=Decimal("3.1"),
        effective_from=effective,
    )
    dispatch("contracts", "uplift_set", payload.model_dump(mode="json"))
    wait_for(
        lambda: _membership(call, est["id"])["core_costs"]["staff_related"] == "1031.00",
        15,
        "the uplift",
    )
    # the same uplift again under another event id: idempotent by uplift id
    again = payload.model_copy(update={"event_id": str(uuid.uuid4())})
    dispatch("contracts", "uplift_set", again.model_dump(mode="json"))
    # an unknown head: refused, logged and acknowledged (never retried)
    bad = ContractsUpliftSet(
        uplift_id=str(uuid.uuid4()),
        category="SEN",
        cost_head="nope",
        percent=Decimal("2"),
        effective_from=effective,
    )
    dispatch("contracts", "uplift_set", bad.model_dump(mode="json"))
    with call() as q:  # the RPC contracts may call directly: same uplift id, no-op
        result = q.apply_uplift(
            {
                "uplift_id": uplift_id,
                "category": "SEN",
                "cost_head": "staff_related",
                "percent": "3.1",
                "effective_from": effective.isoformat(),
            }
        )
        assert result["already_applied"] is True and est["id"] in result["applied"]
        with pytest.raises(InvalidInput):
            q.apply_uplift(
                {
                    **bad.model_dump(
                        mode="json", include={"category", "cost_head", "effective_from"}
                    ),
                    "uplift_id": "x",
                    "percent": "2",
                }
            )
    wait_for(lambda: events.types(est["id"])["core_costs_changed"] == 1, 15, "the event")
    ms = _membership(call, est["id"])
    assert ms["core_costs"]["staff_related"] == "1031.00"
    assert [
        (c["head"], c["amount"], c["uplift_id"])
        for c in ms["cost_history"]
        if c["head"] == "staff_related"
    ] == [("staff_related", "1000.00", None), ("staff_related", "1031.00", uplift_id)]
    changed = next(p for t, p in events.about(est["id"]) if t == "core_costs_changed")
    assert (changed["old"], changed["new"], changed["uplift_id"]) == (
        "1000.00",
        "1031.00",
        uplift_id,
    )
    assert changed["total_weekly_core_cost"] == "9031.00"
    assert events.types(est["id"])["core_costs_changed"] == 1


def test_eligibility_standings_and_access(service, call, relay):
    sen = _sen(call)
    pid = f"p-{uuid.uuid4()}"
    near = _admitted(call, pid, sen, lat=51.30, lon=0.50)  # Maidstone
    dear = _admitted(call, pid, sen, lat=51.31, lon=0.52, amount="900.00")
    far = _admitted(call, pid, sen, lat=51.75, lon=0.47)  # Chelmsford, ~31 miles
    with call(LEAD) as q:
        q.update_category("SEN", {"authority_caps": {"MED": "5000.00"}})
    try:
        with call() as q:
            found = q.eligible_establishments(
                {
                    "category": "SEN",
                    "lat": 51.27,
                    "lon": 0.52,
                    "radius_miles": 10,
                    "authority": "MED",
                }
            )
            ids = [e["establishment_id"] for e in found]
            assert near["id"] in ids and far["id"] not in ids
            assert dear["id"] not in ids  # 8100.00 a week: above Medway's own cap
            kent = q.eligible_establishments(
                {
                    "category": "SEN",
                    "lat": 51.27,
                    "lon": 0.52,
                    "radius_miles": 10,
                    "authority": "KCC",
                }
            )
            mine = {e["establishment_id"]: e for e in kent}
            assert {near["id"], dear["id"]} <= set(mine)
            assert mine[near["id"]]["distance_miles"] == pytest.approx(
                haversine_miles(GeoPoint(51.30, 0.50), GeoPoint(51.27, 0.52))
            )
            assert mine[near["id"]]["competency"] == 79.0
            assert mine[near["id"]]["core_costs"]["premises"] == "300.00"
            distances = [e["distance_miles"] for e in kent]
            assert distances == sorted(distances)
            standing = q.standings("SEN", [near["id"], "unknown"])
        assert standing == {
            near["id"]: {"admitted": True, "status": "admitted", "competency": 79.0},
            "unknown": {"admitted": False, "status": None, "competency": 0.0},
        }
    finally:
        with call(LEAD) as q:
            q.update_category("SEN", {"authority_caps": {"MED": None}})

    with call(provider(f"p-{uuid.uuid4()}")) as q, pytest.raises(NotFound):
        q.get_establishment(near["id"])  # another provider's: hidden (§10)
    with call({"id": "k", "role": "commissioner", "authority": "KCC"}) as q:
        seen = q.get_establishment(near["id"])
        assert [ms["status"] for ms in seen["memberships"]] == ["admitted"]
    with call(LEAD) as q:
        q.suspend_membership(
            near["id"], "SEN", {"criterion": "FINANCIAL", "reason": "accounts show insolvency risk"}
        )
        with pytest.raises(Conflict):
            q.suspend_membership(near["id"], "SEN", {"criterion": "FINANCIAL", "reason": "again"})
    with (
        call({"id": "k", "role": "commissioner", "authority": "KCC"}) as q,
        pytest.raises(NotFound),
    ):
        q.get_establishment(near["id"])  # no longer admitted anywhere


def test_overdue_evaluations_are_listed_until_extended(service, call):
    sen = _sen(call)
    pid = f"p-{uuid.uuid4()}"
    today = london_date(CLOCK.now())
    _, app = _submitted(call, pid, sen, "Elm School")
    due = date.fromisoformat(app["due_on"])
    assert due > today and not app["overdue"]

    def overdue_ids(principal):
        with call(principal) as q:
            page = q.list_applications({"overdue": True, "limit": 500})
        return {a["id"] for a in page["items"]}

    CLOCK.advance(days=(due - today).days)
    assert app["id"] not in overdue_ids(LEAD)  # due today: not yet overdue (§4.3)
    CLOCK.advance(days=1)
    assert app["id"] in overdue_ids(LEAD) and app["id"] in overdue_ids(provider(pid))
    assert app["id"] not in overdue_ids(provider(f"p-{uuid.uuid4()}"))
    with call(LEAD) as q:
        extended = q.extend_evaluation(app["id"], {"reason": "site visit needed"})
        assert date.fromisoformat(extended["due_on"]) > due
        assert extended["extension_reason"] == "site visit needed"
        with pytest.raises(Conflict):
            q.extend_evaluation(app["id"], {"reason": "again"})
    assert app["id"] not in overdue_ids(LEAD)


def test_an_application_is_judged_against_the_configuration_in_force_at_submission(service, call):
    sen = _sen(call)
    _, app = _submitted(call, f"p-{uuid.uuid4()}", sen, "Ash School")
    assert app["config_version"] == sen["version"]
    weights = sen["weighted_criteria_weights"]
    with call(LEAD) as q:
        changed = q.update_category(
            "SEN",
            {
                "weighted_criteria_weights": {
                    "WORKFORCE": 50,
                    "OUTCOMES_APPROACH": 25,
                    "PERFORMANCE_MONITORING": 25,
                }
            },
        )
        try:
            assert changed["version"] == sen["version"] + 1
            decided = q.decide_application(app["id"], samples.decision_body(sen))
        finally:
            q.update_category("SEN", {"weighted_criteria_weights": weights})
    assert decided["decision"]["competency"] == 79.0  # 30/40/30, not 50/25/25 (80.0)
    with call(LEAD) as q:
        assert q.get_category("SEN", sen["version"])["weighted_criteria_weights"] == weights
        trail = q.audit_records({"entity_type": "category", "entity_id": "SEN", "limit": 1000})
    assert any(
        r["action"] == "category.changed"
        and r["after"]["version"] == sen["version"] + 1
        and r["after"]["weighted_criteria_weights"]["WORKFORCE"] == 50
        for r in trail
    )


def test_renewal_reverification_removal_and_contact_changes(service, call, relay, events):
    sen = _sen(call)
    pid = f"p-{uuid.uuid4()}"
    lat, lon = round(random.uniform(50.9, 51.3), 5), round(random.uniform(-0.6, 0.2), 5)
    est = _admitted(call, pid, sen, lat=lat, lon=lon)
    today = london_date(CLOCK.now())
    renewed = samples.evidence("INSURANCE", today, insurance_expires=today + timedelta(days=700))
    with call(provider(pid)) as q:
        ms = q.renew_evidence(est["id"], "SEN", renewed)
        assert ms["evidence_expiry"]["INSURANCE"] == (today + timedelta(days=700)).isoformat()
        changed = q.update_establishment(
            est["id"],
            {"contacts": [{"name": "Bo Lee", "email": "bo@school.example.org"}], "capacity": 12},
        )
        assert changed["capacity"] == 12 and changed["contacts"][0]["name"] == "Bo Lee"
        with pytest.raises(InvalidInput):
            q.update_establishment(est["id"], {"location": {"lat": 51, "lon": 0}})

    with call(LEAD) as q:
        CLOCK.advance(days=366)  # the yearly re-verification falls due (§4.5)
        due = q.list_establishments({"reverification_due": True, "limit": 500})
        assert est["id"] in {e["id"] for e in due["items"]}
        passed = q.reverify_membership(est["id"], "SEN", {})
        assert passed["status"] == "admitted"
        assert date.fromisoformat(passed["reverification_due_on"]) > london_date(CLOCK.now())
        failed = q.reverify_membership(
            est["id"], "SEN", {"failed_criterion": "COMPLIANCE", "reason": "HSE notice"}
        )
        assert failed["status"] == "suspended"
        suspended = q.list_establishments(
            {"status": "suspended", "near": f"{lat},{lon}", "radius_miles": 1, "limit": 500}
        )
        assert [e["id"] for e in suspended["items"]] == [est["id"]]
        removed = q.remove_membership(est["id"], "SEN", {"reason": "left the market"})
        assert removed["status"] == "removed"
        exported = q.export_establishments({"category": "SEN"})
        assert est["id"] not in {e["id"] for e in exported["items"]}
    with call(provider(pid)) as q:  # a DPS never shuts anyone out for good (§4)
        again = q.create_application(
            samples.application_body(sen, est["id"], london_date(CLOCK.now()))
        )
        assert again["status"] == "draft"
    wait_for(lambda: events.types(est["id"])["membership_removed"] == 1, 15, "the removal")
    kinds = events.types(est["id"])
    assert kinds["establishment_contacts_changed"] == 1  # the change, not the registration
    assert kinds["membership_suspended"] == 1 and kinds["reverification_due"] <= 1
    contacts = [p for t, p in events.about(est["id"]) if t == "establishment_contacts_changed"]
    assert contacts[-1]["contacts"] == [
        {"name": "Bo Lee", "email": "bo@school.example.org", "phone": None, "sms_opt_in": False}
    ]
