"""§4.5 and DESIGN rule 4: when the evidence timer next has something to do for a
membership (``next_check``), the once-per-due-date re-verification flag, and the
establishment changes a provider may make (§4, §8 contacts)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.errors import InvalidInput
from services.qualification import messages as m
from services.qualification.domain import Establishment
from tests.support.qualification_builders import INSURANCE_EXPIRY, TODAY, admitted, answer, configs

CFG = configs()
SEN = CFG["SEN"]


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def test_next_check_is_30_days_before_the_first_expiry_then_the_expiry_itself():
    est, ms = admitted(SEN)
    assert ms.next_check() == INSURANCE_EXPIRY - timedelta(days=30)
    est.remind_expiring_evidence(at(INSURANCE_EXPIRY - timedelta(days=30)))
    assert ms.next_check() == INSURANCE_EXPIRY  # reminded once: next is the expiry


def test_next_check_skips_a_criterion_already_failed_and_ends_with_the_membership():
    est, ms = admitted(SEN)
    est.suspend_expired_evidence(at(INSURANCE_EXPIRY))
    assert ms.state == "suspended"
    assert ms.next_check() == ms.reverification_due_on  # INSURANCE waits for reinstatement
    est.remove("SEN", "left the market", at(INSURANCE_EXPIRY))
    assert ms.next_check() is None


def test_the_timer_always_moves_next_check_past_today():
    """Whatever day the timer runs, afterwards nothing is due that day (no busy loop)."""
    for offset in (0, 200, 299, 330, 340, 360, 400):
        est, ms = admitted(SEN)
        now = at(TODAY + timedelta(days=offset))
        est.remind_expiring_evidence(now)
        est.suspend_expired_evidence(now)
        est.flag_due_reverifications(now)
        assert ms.next_check() is None or ms.next_check() > now.date(), offset


def test_a_due_reverification_is_flagged_once_per_due_date():
    est, ms = admitted(SEN)
    assert ms.reverification_due_on == date(2027, 3, 2)
    assert est.flag_due_reverifications(at(date(2027, 3, 1))) == []
    renewed = answer("INSURANCE", expires_on=date(2028, 1, 31))
    est.renew_evidence("SEN", "INSURANCE", renewed, SEN, at(date(2027, 1, 10)))
    (event,) = est.flag_due_reverifications(at(date(2027, 3, 2)))
    assert isinstance(event, m.ReverificationDue)
    assert (event.membership_id, event.due_on, event.category) == (ms.id, date(2027, 3, 2), "SEN")
    assert est.flag_due_reverifications(at(date(2027, 3, 9))) == []
    assert ms.next_check() == date(2028, 1, 1)  # the renewed insurance's reminder
    est.reverify("SEN", SEN, at(date(2027, 3, 10)))
    assert ms.reverification_due_on == date(2028, 3, 10)
    assert ms.next_check() == date(2028, 1, 1)


def _request(**changes) -> m.EstablishmentCreate:
    body = {
        "name": "Downs School",
        "address": "1 Downs Road, Brighton",
        "postcode": "bn1 1aa",
        "location": {"lat": 50.82, "lon": -0.14},
        "categories": ["SEN"],
        "contacts": [{"name": "Ann", "email": "ann@downs-school.org.uk"}],
    }
    return m.EstablishmentCreate.model_validate({**body, **changes})


def test_registration_announces_nothing_and_a_change_of_contacts_is_announced_whole():
    """§8: no one is told of an establishment before it applies (the membership events
    carry its contacts); a change of contacts is announced with every field."""
    est = Establishment.register("provider-1", _request())
    assert est.events == []
    est.update(m.EstablishmentUpdate.model_validate(
        {"contacts": [{"name": "Cy", "email": "cy@downs-school.org.uk"}]}))
    (event,) = est.events
    assert isinstance(event, m.EstablishmentContactsChanged)
    assert event.model_dump(mode="json", exclude={"event_id", "occurred_at", "request_id"}) == {
        "establishment_id": est.id,
        "provider_id": "provider-1",
        "contacts": [
            {"name": "Cy", "email": "cy@downs-school.org.uk", "phone": None, "sms_opt_in": False}
        ],
    }


def test_update_changes_details_and_announces_new_contacts_only():
    est = Establishment.register("provider-1", _request())
    est.update(m.EstablishmentUpdate(capacity=12, name="Downs House"))
    assert (est.capacity, est.name, est.events) == (12, "Downs House", [])
    same = [{"name": "Ann", "email": "ann@downs-school.org.uk"}]
    est.update(m.EstablishmentUpdate.model_validate({"contacts": same}))
    assert est.events == []
    est.update(
        m.EstablishmentUpdate.model_validate(
            {
                "contacts": [
                    {
                        "name": "Bob",
                        "email": "bob@downs-school.org.uk",
                        "phone": "+44 7700 900456",
                        "sms_opt_in": True,
                    }
                ]
            }
        )
    )
    (event,) = est.events
    assert event.contacts[0].email == "bob@downs-school.org.uk"
    with pytest.raises(InvalidInput) as err:
        est.update(m.EstablishmentUpdate())
    assert err.value.errors == [{"loc": [], "msg": "nothing to change"}]
    with pytest.raises(InvalidInput):
        est.update(m.EstablishmentUpdate.model_validate({"name": None}))


def test_near_filter_is_checked():
    q = m.EstablishmentQuery(near="51.27, 0.52", radius_miles=10)
    assert m.parse_near(q.near) == (51.27, 0.52)
    for bad in (
        {"near": "200,0", "radius_miles": 1},
        {"near": "x", "radius_miles": 1},
        {"near": "51,0"},
    ):
        with pytest.raises(ValueError):
            m.EstablishmentQuery.model_validate(bad)
