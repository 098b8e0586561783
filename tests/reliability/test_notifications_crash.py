"""A crashed notifications process stops no mail (issue 10, RULES §8).

The notifications process is killed with SIGKILL while it sends a publication's alerts,
and restarted. Every invited contact must then receive its alert; the only duplicates
allowed are deliveries whose attempt was interrupted, and each copy carries the same
Message-ID (stable per delivery). A later referral's alerts must all go out, each once.

Two variants: the configured lease (a dead sender's batch is sent again once its lease
runs out, the live one renewing its own), and a lease shortened to a few seconds, so that
leases expire during the test while the new process is sending.
"""

from __future__ import annotations

import os
import signal
from collections import defaultdict

import pytest
from sqlalchemy import text

from services.common.runtime import make_engine
from tests.support import notifications_events as ev
from tests.support.infra import wait_for
from tests.support.mail import Sink

ALERTS = 300


def _received(sink: Sink, token: str) -> dict[str, list[str]]:
    """Message-IDs each invited contact of ``token``'s referral received."""
    by_recipient: dict[str, list[str]] = defaultdict(list)
    for record in sink.emails_to_matching(token):
        for to in record["to"]:
            if token in to:
                by_recipient[to].append(record["message_id"])
    return by_recipient


def _deliveries(token: str) -> list[dict]:
    engine = make_engine(pool_size=1)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(
                "SELECT id, recipient, status, attempts FROM notifications.deliveries "
                "WHERE recipient LIKE :pattern"), {"pattern": f"%.{token}@%"})]
    finally:
        engine.dispose()


def _resent_audited(ids: list[str]) -> set[str]:
    engine = make_engine(pool_size=1)
    try:
        with engine.connect() as conn:
            return {r.entity_id for r in conn.execute(text(
                "SELECT entity_id FROM notifications.audit_log WHERE action = "
                "'delivery.resent' AND entity_id = ANY(:ids)"), {"ids": ids})}
    finally:
        engine.dispose()


def _restart_notifications(stack, env: dict[str, str]) -> None:
    stack.stop("notifications")
    stack.env = env
    stack.start("notifications")
    stack.wait_healthy()


@pytest.mark.parametrize("lease", [None, "4"], ids=["configured-lease", "short-lease"])
def test_a_killed_sender_loses_no_alert_and_blocks_no_later_one(stack, lease):
    sink = Sink(stack.mail_dir)
    original = dict(stack.env)
    if lease:
        _restart_notifications(stack, {**original, "DPS_NOTIFICATION_LEASE_SECONDS": lease,
                                       "DPS_NOTIFICATION_LEASE_RENEW_SECONDS": "1"})
    try:
        token = ev.new_token()
        ev.publish("referral", ev.referral_published(token, ALERTS, sms=False))
        # kill the sender mid-batch: some alerts are out, most are not
        wait_for(lambda: len(_received(sink, token)) >= 20, 60, "the first alerts")
        killed = stack.procs["notifications"]
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(10)
        assert len(_received(sink, token)) < ALERTS
        stack.start("notifications")

        received = wait_for(lambda: (r := _received(sink, token)) and len(r) == ALERTS and r,
                            150, f"all {ALERTS} alerts after the restart")
        assert set(received) == {ev.email_of(token, i) for i in range(ALERTS)}
        # positive marker: every delivery is recorded as delivered
        deliveries = wait_for(
            lambda: (d := _deliveries(token)) and all(x["status"] == "delivered" for x in d)
            and d, 60, "every delivery recorded delivered")
        assert len(deliveries) == ALERTS
        resent = [d for d in deliveries if d["attempts"] > 1]
        received = _received(sink, token)
        for recipient, message_ids in received.items():
            if len(message_ids) > 1:  # a resend after an interrupted attempt: the same id
                assert len(set(message_ids)) == 1, (recipient, message_ids)
        duplicated = {r for r, ids in received.items() if len(ids) > 1}
        assert duplicated <= {d["recipient"] for d in resent}
        assert _resent_audited([d["id"] for d in resent]) == {d["id"] for d in resent}

        later = ev.new_token()
        ev.publish("referral", ev.referral_published(later, 20, sms=False))
        wait_for(lambda: len(_received(sink, later)) == 20, 60, "the later referral's alerts")
        done = wait_for(lambda: (d := _deliveries(later)) and len(d) == 20
                        and all(x["status"] == "delivered" for x in d) and d, 30,
                        "the later alerts recorded")
        assert all(d["attempts"] == 1 for d in done)
    finally:
        if lease or stack.env != original:
            _restart_notifications(stack, original)
        elif "notifications" not in stack.procs or stack.procs["notifications"].poll() is not None:
            stack.start("notifications")
            stack.wait_healthy()
