"""RULES §5 publishing, tender period, minimum invited, widening and the anonymised profile."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.referral.domain import Status, whole_miles
from services.referral.messages import (
    AnswerCreate,
    PublishRequest,
    QuestionCreate,
    RadiusRequest,
    ReferralView,
)
from tests.support.referral_builders import (
    AUDITOR,
    BEFORE_DEADLINE,
    CONTRACT_MANAGER,
    DEADLINE,
    NOW,
    OTHER_COMMISSIONER,
    OWNER,
    STRANGER,
    draft,
    provider,
    published,
    snapshot,
)


def five() -> list:
    return [snapshot(i) for i in range(1, 6)]


def test_publish_invites_every_eligible_establishment_and_alerts_their_contacts():
    """§5: publishing reports how many were invited; each invitee's contacts are alerted."""
    referral = draft()
    res = referral.publish(OWNER, PublishRequest(), five(), NOW)
    assert (res.status, res.invited) == ("published", 5)
    assert referral.status == Status.PUBLISHED and referral.published_at == NOW
    event = referral.events[-1]
    assert event.event_type == "referral_published"
    assert [i.establishment_id for i in event.invited] == ["E1", "E2", "E3", "E4", "E5"]
    assert event.invited[0].contacts[0].email == "e1@example.org"
    assert event.invited[0].distance_miles == 12  # 12.7 shown as whole miles
    assert event.profile.referral_id == referral.referral_id
    assert (event.referral_id, event.authority, event.category) == (
        referral.referral_id,
        "KCC",
        "RESIDENTIAL",
    )
    assert event.occurred_at == NOW and event.event_id


def test_invitation_keeps_a_snapshot_for_scoring():
    """DESIGN rule 1: distance, competency, qualified core costs and tiers at invitation."""
    referral = published()
    snap = referral.invitations["E2"].snapshot
    assert snap.distance_miles == Decimal("12.7")
    assert snap.competency == Decimal(80)
    assert snap.core_costs == {"premises": Decimal("1000.00"), "staffing": Decimal("2000.00")}
    assert [t.min_children for t in snap.cohort_discounts] == [2, 3]
    assert referral.invitations["E2"].invited_at == NOW


@pytest.mark.parametrize(
    ("distance", "shown"),
    [("0", 0), ("9.99", 9), ("10.0", 10), ("10.5", 10), ("49.999", 49), ("55.5", 55)],
)
def test_distance_is_shown_in_whole_miles_rounded_down(distance, shown):
    """§5 whole miles, rounded down so the shown figure stays in the §6.3 scored band."""
    assert whole_miles(Decimal(distance)) == shown


def test_deadline_must_allow_the_minimum_tender_period():
    """§5: deadline ≥ publishing + the category's minimum tender period (default 24 h)."""
    exactly = draft(deadline=NOW + timedelta(hours=24))
    exactly.publish(OWNER, PublishRequest(), five(), NOW)
    assert exactly.status == Status.PUBLISHED

    short = draft(deadline=NOW + timedelta(hours=24) - timedelta(seconds=1))
    with pytest.raises(InvalidInput) as exc:
        short.publish(OWNER, PublishRequest(), five(), NOW)
    assert exc.value.errors[0]["loc"] == ["deadline"]
    assert short.status == Status.DRAFT

    longer = draft(deadline=NOW + timedelta(hours=47))
    with pytest.raises(InvalidInput):
        longer.publish(OWNER, PublishRequest(), five(), NOW, min_tender_period_hours=48)


def test_fewer_than_min_invited_is_a_conflict_carrying_the_count():
    """§5: below the minimum the commissioner is told to widen; nothing is published."""
    referral = draft()
    with pytest.raises(Conflict) as exc:
        referral.publish(OWNER, PublishRequest(), [snapshot(1), snapshot(2)], NOW)
    assert exc.value.errors[0]["invited"] == 2
    assert exc.value.errors[0]["min_invited"] == 3
    assert "widen" in exc.value.detail
    assert referral.status == Status.DRAFT
    assert referral.invitations == {} and referral.events == []


def test_accept_fewer_publishes_below_the_minimum():
    referral = draft()
    res = referral.publish(OWNER, PublishRequest(accept_fewer=True), [snapshot(1)], NOW)
    assert res.invited == 1 and referral.status == Status.PUBLISHED


def test_nobody_eligible_is_refused_even_with_accept_fewer():
    referral = draft()
    with pytest.raises(Conflict) as exc:
        referral.publish(OWNER, PublishRequest(accept_fewer=True), [], NOW)
    assert exc.value.errors[0]["invited"] == 0


def test_min_invited_of_the_referral_overrides_the_default():
    referral = draft(min_invited=5)
    with pytest.raises(Conflict):
        referral.publish(OWNER, PublishRequest(), five()[:4], NOW)
    referral.publish(OWNER, PublishRequest(), five(), NOW)
    assert referral.status == Status.PUBLISHED


@pytest.mark.parametrize(
    ("who", "error"),
    [
        (OTHER_COMMISSIONER, NotFound),
        (STRANGER, NotFound),
        (CONTRACT_MANAGER, Forbidden),
        (AUDITOR, Forbidden),
    ],
)
def test_only_the_owner_publishes(who, error):
    """§10: a referral of another authority is not admitted to exist (404)."""
    with pytest.raises(error):
        draft().publish(who, PublishRequest(), five(), NOW)


def test_an_invited_provider_is_forbidden_owner_actions():
    """§10: it knows the referral, so 403 rather than 404."""
    referral = published()
    with pytest.raises(Forbidden):
        referral.widen_radius(provider(1), RadiusRequest(radius_miles=40), five(), NOW)


# ------------------------------------------------------------------ widening (§5)


def test_widening_invites_and_alerts_only_newcomers():
    referral = published()
    referral.events.clear()
    changed_e1 = snapshot(1, competency="10", distance_miles="1")
    res = referral.widen_radius(
        OWNER, RadiusRequest(radius_miles=45), [changed_e1, *five()[1:]], BEFORE_DEADLINE, 0
    )
    assert (res.radius_miles, res.invited_total, res.newly_invited) == (45, 5, 2)
    assert referral.spec.radius_miles == 45
    (event,) = referral.events
    assert event.event_type == "referral_widened"
    assert [i.establishment_id for i in event.invited] == ["E4", "E5"]
    assert event.radius_miles == 45
    # an existing invitation keeps its original snapshot
    assert referral.invitations["E1"].snapshot.competency == Decimal(80)
    assert referral.invitations["E4"].invited_at == BEFORE_DEADLINE


def test_widening_without_newcomers_alerts_nobody():
    referral = published()
    referral.events.clear()
    res = referral.widen_radius(OWNER, RadiusRequest(radius_miles=31), five()[:3], NOW)
    assert res.newly_invited == 0 and referral.events == []


@pytest.mark.parametrize("radius", [30, 29.5, 5])
def test_radius_cannot_narrow_or_stay_after_publishing(radius):
    referral = published()
    with pytest.raises(InvalidInput) as exc:
        referral.widen_radius(OWNER, RadiusRequest(radius_miles=radius), five(), NOW)
    assert exc.value.errors[0]["loc"] == ["radius_miles"]
    assert referral.spec.radius_miles == 30 and len(referral.invitations) == 3


def test_draft_radius_may_change_either_way_and_invites_nobody():
    referral = draft()
    res = referral.widen_radius(OWNER, RadiusRequest(radius_miles=10), five(), NOW)
    assert (res.invited_total, res.newly_invited) == (0, 0)
    assert referral.spec.radius_miles == 10 and referral.events == []


def test_widening_stops_at_the_deadline():
    referral = published()
    with pytest.raises(Conflict):
        referral.widen_radius(OWNER, RadiusRequest(radius_miles=50), five(), DEADLINE)


# ------------------------------------------------------------------ views (§5, §10)


def test_provider_view_is_the_profile_with_its_own_invitations_only():
    referral = published()
    view = referral.view_for(provider(2))
    assert view.status == "published"
    assert [(i.establishment_id, i.distance_miles) for i in view.invitations] == [("E2", 12)]
    assert view.children_count == 1 and view.children[0].age == 14
    assert "child_reference" not in view.model_dump()


def test_owner_view_is_the_full_record():
    referral = published()
    view = referral.view_for(OWNER)
    assert isinstance(view, ReferralView)
    assert view.spec.child_reference == "KCC-CHILD-0001"
    assert len(view.invitations) == 3


@pytest.mark.parametrize(
    ("who", "error"), [(OTHER_COMMISSIONER, NotFound), (STRANGER, NotFound), (AUDITOR, Forbidden)]
)
def test_others_cannot_read_the_referral(who, error):
    with pytest.raises(error):
        published().view_for(who)


def test_a_draft_is_invisible_to_providers():
    with pytest.raises(NotFound):
        draft().view_for(provider(1))


# Capital Q starts no word of the fixtures, so a generated name cannot occur there by chance.
names = st.from_regex(r"Q[a-z]{5,10} Q[a-z]{5,10}", fullmatch=True)
refs = st.from_regex(r"REF-[0-9A-Z]{8}", fullmatch=True)
addresses = st.from_regex(r"[1-9][0-9]{1,2} Q[a-z]{5,10} (Road|Lane|Close)", fullmatch=True)
births = st.dates(min_value=date(2005, 1, 1), max_value=date(2025, 12, 31))
# six decimal places, so that no other figure of the fixtures can contain them
micro = st.integers(1, 999_999).filter(lambda k: k % 10)
coords = st.tuples(micro.map(lambda k: 51 + k / 1e6), micro.map(lambda k: 0.5 - k / 1e6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names, refs, addresses, births, coords)
def test_nothing_a_provider_receives_holds_child_identifiers(name, ref, address, born, home):
    """§5 data minimisation: no name, date of birth, address, child reference or home
    location in the profile, a provider's view, the published event or an answer."""
    lat, lon = home
    children = [
        {"age": 12, "gender": "male", "name": name, "date_of_birth": born.isoformat()},
        {"age": 9, "name": name.split()[0] + "ina Roe"},
    ]
    referral = draft(
        child_reference=ref,
        children=children,
        address=address,
        home_location={"lat": lat, "lon": lon},
    )
    referral.publish(OWNER, PublishRequest(), five(), NOW)
    asked = QuestionCreate(establishment_id="E1", question="Any siblings?")
    question = referral.ask_question(provider(1), asked, NOW)
    referral.answer_question(OWNER, question.question_id, AnswerCreate(answer="Yes, two."), NOW)
    outgoing = [
        referral.anonymised_profile().model_dump_json(),
        referral.view_for(provider(3)).model_dump_json(),
        *(e.model_dump_json() for e in referral.events),
    ]
    secrets = [name, name.split()[0], ref, address, born.isoformat(), repr(lat), repr(lon)]
    for text in outgoing:
        for secret in secrets:
            assert secret not in text
    profile = referral.anonymised_profile()
    assert [c.age for c in profile.children] == [12, 9]
    assert profile.children[0].gender == "male"
    # while the owner keeps the full record
    assert name in referral.view_for(OWNER).model_dump_json()


def test_profile_holds_what_providers_need_to_bid():
    """§5: ages, gender, legal status, needs, requirements, outcomes, plus the award
    criteria (weights), deadline, category and number of children."""
    profile = published().anonymised_profile()
    data = profile.model_dump(mode="json")
    assert data["children"] == [{"age": 14, "gender": "female", "legal_status": "s31"}]
    assert [n["code"] for n in data["needs"]] == ["N1", "N2"]
    assert [f["code"] for f in data["features"]] == ["M1", "D1", "D2"]
    assert data["desired_outcomes"] == ["attend school full time", "stable placement"]
    assert data["weights"]["P"] == 50
    assert data["children_count"] == 1 and data["category"] == "RESIDENTIAL"
    assert data["deadline"].startswith(DEADLINE.date().isoformat())
    assert set(data) == {
        "referral_id",
        "category",
        "deadline",
        "children_count",
        "children",
        "needs",
        "features",
        "desired_outcomes",
        "weights",
        "incentive",
    }
