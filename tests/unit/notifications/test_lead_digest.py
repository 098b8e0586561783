"""RULES §8 (issue 13): the lead's digest of overdue applications and due re-verifications."""

from __future__ import annotations

from datetime import date

from services.notifications import domain
from services.notifications.messages import MessageType
from services.notifications.rendering import render
from services.qualification import messages as qm

EVENT = qm.LeadDigest(
    day=date(2026, 3, 2),
    overdue_applications=[qm.DigestApplication(
        application_id="app-1", establishment_id="e1", establishment_name="Oak House",
        category="SEN", due_on=date(2026, 2, 20))],
    reverifications_due=[],
)


def test_the_digest_goes_to_the_lead_and_lists_each_overdue_application():
    plan = domain.plan_lead_digest(EVENT, "lead@dps.example")
    assert plan.message_type is MessageType.LEAD_DIGEST
    assert [c.email for c in plan.contacts] == ["lead@dps.example"]
    rendered = render(plan.message_type, {**plan.context, "recipient_name": "DPS lead"},
                      base_url="https://dps.example")
    assert "1 application overdue, 0 re-verifications due" in rendered.subject
    assert "Oak House (SEN), due" in rendered.text and "app-1" in rendered.text
    assert "https://dps.example/applications?overdue=true" in rendered.text


def test_without_a_lead_address_nobody_is_mailed_and_the_reason_is_kept():
    plan = domain.plan_lead_digest(EVENT, None)
    assert plan.contacts == []
    assert "DPS_LEAD_EMAIL" in domain.unaddressed(plan)[1]
