"""Procurement Act notices from the contracts service in a real nameko container on real
RabbitMQ and PostgreSQL (RULES §11.4): the events of a dynamic market and its call-offs, with
the fields RULES §11.2-§11.4 name, raise each notice once; every release validates
against the OCDS 1.1 release schema merged with the UK profile, carries its ``noticeType`` and
none of the child's data; the same flow under the PCR 2015 DPS raises none; the lead reads the
feed and the due list and marks a notice published."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.common.errors import Conflict, Forbidden
from services.contracts import store
from services.contracts.service import ContractsService
from tests.support import notices_events as ev
from tests.support.containers import engine_fixture, rpc_fixture, service_fixture
from tests.support.contracts_events import award_payload, publish, uid
from tests.support.infra import wait_for
from tests.support.ocds_uk import leaked, notice_types, validate_release

engine = engine_fixture()
contracts = service_fixture(ContractsService)
rpc = rpc_fixture("contracts")

LEAD = {"id": "lead-1", "role": "lead"}
MANAGER = {"id": "cm", "role": "contract_manager"}
KCC = {"id": "k1", "role": "commissioner", "authority": "KCC"}




def notices_of(engine, *keys: str) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(select(store.notices).where(
            store.notices.c.notice_id.in_(list(keys)))).all()
    return {r.notice_id: r for r in rows}


def notices_like(engine, prefix: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(store.notices).where(
            store.notices.c.notice_id.like(f"{prefix}%"))).all()


def processed(engine, *event_ids: str) -> bool:
    table = store.TABLES["processed_events"]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(
            table.c.event_id.in_(list(event_ids)))).scalar_one() == len(event_ids)


def run_flow(engine, rpc, regime: str, dps_id: str) -> dict:
    """A market established, a member admitted, a referral published, awarded (with the
    child's data in the event), started and ended; another published and cancelled; the
    member removed. Returns the ids."""
    ids = {"referral": uid("ref-"), "cancelled": uid("ref-"), "provider": uid("prov-")}
    sent = []

    def send(service, event_type, payload):
        publish(service, event_type, payload)
        sent.append(payload["event_id"])

    send("qualification", "market_created", ev.market(dps_id, regime))
    send("qualification", "market_established", ev.market(dps_id, regime))
    send("qualification", "membership_admitted",
         ev.membership(dps_id, regime, provider_id=ids["provider"]))
    send("referral", "referral_published", ev.referral_published(ids["referral"], dps_id, regime))
    send("referral", "referral_published", ev.referral_published(ids["cancelled"], dps_id,
                                                                 regime))
    wait_for(lambda: processed(engine, *sent), 30, "market and referral events handled")
    awarded_at = datetime.now(UTC)
    award = award_payload(
        provider_id=ids["provider"], awarded_at=awarded_at, referral_id=ids["referral"],
        child_reference=ev.CHILD["child_reference"], referral=ev.child_referral(ids["referral"]),
        **ev.award_fields(dps_id, regime, at=awarded_at))
    ids["placement"] = award["placement_id"]
    send("referral", "referral_awarded", award)
    send("referral", "referral_cancelled", ev.referral_cancelled(ids["cancelled"], dps_id,
                                                                 regime))
    send("qualification", "membership_removed",
         ev.membership(dps_id, regime, provider_id=ids["provider"], removed=True))
    wait_for(lambda: processed(engine, *sent), 30, "award, cancellation, removal handled")
    owner = rpc(KCC)
    owner.start_placement(ids["placement"], {"date": awarded_at.date().isoformat()})
    owner.end_placement(ids["placement"], {"date": (awarded_at.date() + timedelta(days=30))
                                           .isoformat(), "reason": "planned"})
    return ids


def test_s11_4_a_dynamic_market_flow_raises_valid_notices_without_child_data(
        contracts, engine, rpc):
    dps_id = uid("mkt-")
    ids = run_flow(engine, rpc, ev.PA, dps_id)
    expected = {
        f"UK13:{dps_id}": "UK13", f"UK14:{dps_id}": "UK14",
        f"UK4:{ids['referral']}": "UK4", f"UK6:{ids['referral']}": "UK6",
        f"UK7:{ids['placement']}": "UK7", f"UK11:{ids['placement']}": "UK11",
        f"UK12:{ids['cancelled']}": "UK12",
    }
    found = notices_of(engine, *expected)
    assert {k: r.notice_type for k, r in found.items()} == expected
    uk15 = notices_like(engine, f"UK15:{dps_id}:")
    assert len(uk15) == 2  # the admission and the removal (reg 25(6))
    for row in [*found.values(), *uk15]:
        assert validate_release(row.release) == [], row.notice_id
        assert notice_types(row.release) == [row.notice_type]
        assert leaked(row.release, ev.CHILD.values()) == [], row.notice_id
    market_ocid = found[f"UK14:{dps_id}"].ocid
    for key in (f"UK4:{ids['referral']}", f"UK6:{ids['referral']}"):
        assert found[key].release["relatedProcesses"][0]["identifier"] == market_ocid
    assert found[f"UK7:{ids['placement']}"].due_by == datetime.now(UTC).date() + timedelta(
        days=120)

    # the lead reads the feed; the contract manager marks a notice published (§11.4)
    feed = rpc(LEAD).list_notices({"type": "UK15"})
    assert {i["notice_id"] for i in feed["items"]} >= {r.notice_id for r in uk15}
    due = rpc(MANAGER).list_notices({"due": True})
    assert f"UK6:{ids['referral']}" in [i["notice_id"] for i in due["items"]]
    rpc(MANAGER).mark_notice_published(f"UK6:{ids['referral']}", {"fts_notice_id": "004321-2026"})
    due = rpc(MANAGER).list_notices({"due": True})
    assert f"UK6:{ids['referral']}" not in [i["notice_id"] for i in due["items"]]
    with pytest.raises(Forbidden):
        rpc(KCC).list_notices({})


def test_s11_4_the_same_flow_under_the_pcr_2015_dps_raises_no_notice(contracts, engine, rpc):
    dps_id = uid("dps-pcr-")
    ids = run_flow(engine, rpc, ev.PCR, dps_id)
    assert notices_like(engine, f"UK13:{dps_id}") == []
    for key in (ids["referral"], ids["cancelled"], ids["placement"]):
        with engine.connect() as conn:
            rows = conn.execute(select(store.notices.c.notice_id).where(
                store.notices.c.notice_id.like(f"%{key}%"))).all()
        assert rows == []
    with engine.connect() as conn:
        placement = conn.execute(select(store.placements).where(
            store.placements.c.placement_id == ids["placement"])).one()
    assert placement.entered_on == placement.agreed_at.astimezone(UTC).date()  # s.53 kept


def test_s11_4_a_start_within_the_voluntary_standstill_is_refused_409(contracts, engine, rpc):
    dps_id = uid("mkt-")
    awarded_at = datetime.now(UTC)
    ends = awarded_at.date() + timedelta(days=14)
    award = award_payload(awarded_at=awarded_at,
                          **ev.award_fields(dps_id, ev.PA, standstill_ends_on=ends,
                                            at=awarded_at))
    publish("referral", "referral_awarded", award)
    wait_for(lambda: processed(engine, award["event_id"]), 20, "award handled")
    with pytest.raises(Conflict) as refused:
        rpc(KCC).start_placement(award["placement_id"], {"date": ends.isoformat()})
    assert "standstill" in str(refused.value)
    view = rpc(KCC).start_placement(award["placement_id"],
                                    {"date": (ends + timedelta(days=1)).isoformat()})
    assert view["status"] == "active" and view["entered_on"] == view["start_date"]
    assert notices_of(engine, f"UK7:{award['placement_id']}")
