"""RULES §8 "every message comes from a template", and RULES §5 child data minimisation:
only the award to the winner carries the child's name, date of birth, address and
reference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import UndefinedError
from pydantic import ValidationError

from services.notifications.domain import SPECS, SmsPolicy
from services.notifications.messages import MessageType
from services.notifications.rendering import (
    CONTEXTS,
    Rendered,
    ages,
    environment,
    long_date,
    money,
    render,
    score,
)
from tests.support.notifications_samples import (
    BASE_URL,
    CHILD_DATA,
    CHILD_REFERENCE,
    PROFILE,
    full_referral,
    sample_contexts,
)

T = MessageType
ALL = list(T)


def parts(rendered: Rendered) -> list[str]:
    return [rendered.subject, rendered.text, rendered.html, rendered.sms or ""]


def test_every_message_type_has_a_context_model():
    assert set(CONTEXTS) == set(T)


@pytest.mark.parametrize("message_type", ALL)
def test_every_type_renders_subject_text_html_and_sms_where_it_goes_by_sms(message_type):
    rendered = render(message_type, sample_contexts()[message_type], base_url=BASE_URL)
    assert rendered.subject and "\n" not in rendered.subject and len(rendered.subject) < 150
    assert rendered.text.strip() and rendered.text.endswith("\n")
    assert rendered.html.startswith("<!DOCTYPE html>") and "</html>" in rendered.html
    assert f"{BASE_URL}/" in rendered.text and f'href="{BASE_URL}/' in rendered.html
    if SPECS[message_type].sms is SmsPolicy.NEVER:
        assert rendered.sms is None
    else:
        assert rendered.sms and len(rendered.sms) <= 160
        assert f"{BASE_URL}/" in rendered.sms


def test_invitation_carries_the_anonymised_profile():
    """RULES §5: ages, gender, legal status, needs, requirements, outcomes, whole miles."""
    rendered = render(
        T.REFERRAL_INVITATION, sample_contexts()[T.REFERRAL_INVITATION], base_url=BASE_URL
    )
    for expected in [
        "aged 12, female, legal status: Section 20",
        "Autism spectrum condition",
        "Residential 52 weeks",
        "Return to full-time education",
        "12 miles",
        "17:00 on 14 March 2025 (UK time)",
        "SEN referral R-2025-0042 from KCC",
    ]:
        assert expected in rendered.text
        assert expected in rendered.html
    assert rendered.sms == (
        "New SEN referral R-2025-0042 from KCC: aged 12, 12 miles away. Bids close 17:00 14 Mar."
        " https://dps.example.gov.uk/referrals/R-2025-0042"
    )


def test_deadline_is_shown_in_uk_time_across_the_clock_change():
    context = sample_contexts()[T.DEADLINE_REMINDER]
    summer = {**context["referral"], "deadline": "2025-07-01T11:00:00Z"}
    rendered = render(T.DEADLINE_REMINDER, {**context, "referral": summer}, base_url=BASE_URL)
    assert "12:00 on 1 July 2025 (UK time)" in rendered.subject


def test_award_winner_tells_the_award_and_links_to_the_full_referral():
    """RULES §8, §13: the winner is told of the award and sent to the portal page for the
    child's details, which the message never carries."""
    rendered = render(T.AWARD_WINNER, sample_contexts()[T.AWARD_WINNER], base_url=BASE_URL)
    for expected in ["£4,000.00", "1 April 2025", "P-311", f"{BASE_URL}/referrals/"]:
        assert expected in rendered.text
        assert expected in rendered.html
    for secret in (CHILD_REFERENCE, CHILD_DATA["name"], "9 July 2012", CHILD_DATA["address"]):
        assert secret not in rendered.text and secret not in rendered.html


def test_feedback_for_a_non_compliant_bid():
    """RULES §5/§6.2: feedback gives the reason, the compliant count and the winning total."""
    context = {
        **sample_contexts()[T.AWARD_FEEDBACK],
        "total": None,
        "rank": None,
        "sub_scores": {},
        "non_compliant_reason": "missing must-have feature M1",
    }
    rendered = render(T.AWARD_FEEDBACK, context, base_url=BASE_URL)
    assert "not compliant, so it was not scored: missing must-have feature M1." in rendered.text
    assert "winning bid scored 84.08 points" in rendered.text
    with pytest.raises(ValidationError):
        render(T.AWARD_FEEDBACK, {**context, "non_compliant_reason": None}, base_url=BASE_URL)


def test_rejection_lists_the_failed_criteria():
    """RULES §4.3: a rejection carries the reasons for each failed criterion."""
    rendered = render(
        T.APPLICATION_DECIDED, sample_contexts()[T.APPLICATION_DECIDED], base_url=BASE_URL
    )
    assert rendered.subject == "Application rejected: Oakfield School, SEN"
    assert "- INSURANCE: Cover below the minimum" in rendered.text


@pytest.mark.parametrize("message_type", ALL)
def test_a_missing_value_fails_loudly(message_type):
    context = dict(sample_contexts()[message_type])
    required = next(
        name for name, f in CONTEXTS[message_type].model_fields.items() if f.is_required()
    )
    del context[required]
    with pytest.raises(ValidationError):
        render(message_type, context, base_url=BASE_URL)


def test_templates_use_strict_undefined():
    with pytest.raises(UndefinedError):
        environment().from_string("{{ child_name }}").render()


@pytest.mark.parametrize("message_type", ALL)
def test_html_escapes_what_users_typed(message_type):
    evil = "<script>alert(1)</script>"

    def poison(value):
        if isinstance(value, dict):
            return {k: poison(v) for k, v in value.items()}
        if isinstance(value, list):
            return [poison(v) for v in value]
        return f"{value}{evil}" if isinstance(value, str) else value

    context = poison(sample_contexts()[message_type])
    context.pop("action", None)  # enumerations are not free text
    context.pop("decision", None)
    context = {**sample_contexts()[message_type], **context}
    rendered = render(message_type, context, base_url=BASE_URL)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert evil in rendered.text  # plain text is not HTML


names = st.from_regex(r"[A-Z][a-z]{4,10} [A-Z][a-z]{4,12}", fullmatch=True)
addresses = st.from_regex(
    r"[1-9][0-9]{0,2} [A-Z][a-z]{4,9} (Road|Lane|Close), [A-Z]{2}[1-9] [1-9][A-Z]{2}",
    fullmatch=True,
)
references = st.from_regex(r"(KCC|ESCC|MED)-[A-Z]{2}-[0-9]{5,8}", fullmatch=True)
births = st.dates(min_value=date(2005, 1, 1), max_value=date(2020, 12, 31))


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, born=births, address=addresses, reference=references)
def test_no_template_carries_child_identity(name, born, address, reference):
    """RULES §8, §13: whatever the caller passes, no template shows the child's name, date
    of birth, address or reference (the award message included)."""
    referral = full_referral(
        {"name": name, "date_of_birth": born, "address": address}, child_reference=reference
    )
    identity = [name, address, reference, born.isoformat(), long_date(born), f"{born:%d/%m/%Y}"]
    for message_type, context in sample_contexts(referral).items():
        context = {**context, "child_name": name, "address": address, "child_reference": reference}
        rendered = " ".join(parts(render(message_type, context, base_url=BASE_URL)))
        leaked = [item for item in identity if item in rendered]
        assert leaked == [], f"{message_type} shows {leaked}"


def test_profile_without_optional_lists_and_for_a_cohort():
    profile = {
        **PROFILE,
        "needs": [],
        "requirements": [],
        "outcomes": [],
        "children": [
            {"age": 14, "legal_status": "Section 31"},
            {"age": 9, "gender": "male", "legal_status": "Section 31"},
        ],
    }
    context = {**sample_contexts()[T.REFERRAL_INVITATION], "referral": profile, "widened": True}
    rendered = render(T.REFERRAL_INVITATION, context, base_url=BASE_URL)
    assert "which has widened the search area" in rendered.text
    assert "Children:\n- aged 14, legal status: Section 31\n- aged 9, male," in rendered.text
    assert "Needs" not in rendered.text and "Needs" not in rendered.html
    assert "2 children aged 9 and 14" in rendered.sms


@pytest.mark.parametrize(
    "years, text",
    [([12], "aged 12"), ([14, 9], "2 children aged 9 and 14"),
     ([3, 12, 9], "3 children aged 3, 9 and 12")],
)  # fmt: skip
def test_ages(years, text):
    children = CONTEXTS[T.REFERRAL_INVITATION].model_fields["referral"].annotation
    profile = children.model_validate(
        {**PROFILE, "children": [{"age": y, "legal_status": "S20"} for y in years]}
    )
    assert ages(profile.children) == text


def test_money_and_score_formats():
    """Money is exact pounds (RULES §4.4); totals are rounded only for display (§6.3)."""
    assert money(Decimal("4000")) == "£4,000.00"
    assert money(Decimal("1234567.005")) == "£1,234,567.01"
    assert score(Decimal("84.0833")) == "84.08"
    assert score(Decimal("3.335")) == "3.34"
