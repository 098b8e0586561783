"""RULES §10 for the qualification service's objects, walked as one table.

Rows: role (provider, commissioner, lead, contract_manager, auditor) × own/other authority
× own/other provider × the establishment admitted or not. Columns: what the handlers ask
``access`` for each use case. ``ok`` is allowed, 404 hides the object (§10: admitting it
exists would leak), 403 refuses a known principal acting outside its rights. Nothing of
qualification depends on being invited (that is referral's matrix).
"""

from __future__ import annotations

import itertools

import pytest

from services.common.errors import Forbidden, NotFound
from services.qualification import access
from tests.support.qualification_builders import admitted, configs, draft, establishment

OWN_PROVIDER, OTHER_PROVIDER = "provider-1", "provider-2"
OWN_AUTHORITY, OTHER_AUTHORITY = "WSCC", "KCC"
ROLES = ("provider", "commissioner", "lead", "contract_manager", "auditor")


def principal(role: str, authority: str, provider: str) -> dict:
    return {
        "id": f"k-{role}",
        "role": role,
        "authority": None if role in ("provider", "contract_manager", "auditor") else authority,
        "provider_id": provider if role == "provider" else None,
    }


def an_establishment(is_admitted: bool):
    """Owned by OWN_PROVIDER; admitted in SEN or only registered."""
    est = establishment(provider_id=OWN_PROVIDER)
    if is_admitted:
        admitted(configs()["SEN"], est)
    return est


def outcome(check) -> object:
    try:
        check()
    except NotFound:
        return 404
    except Forbidden:
        return 403
    return "ok"


def read_establishment(p, est):
    access.require_role(p, *access.READERS)
    access.readable_establishment(p, est)


def change_establishment(p, est):
    access.require_role(p, *access.ESTABLISHMENT_EDITORS)
    access.readable_establishment(p, est)


def lead_command(p, est):  # suspend, reinstate, reverify, remove, record an inspection
    access.require_role(p, *access.LEAD)
    access.readable_establishment(p, est)


def provider_command(p, est):  # resubmit or renew evidence, create/submit an application
    access.require_role(p, *access.PROVIDER)
    access.readable_establishment(p, est)


def export(p, est):
    access.require_role(p, *access.EXPORTERS)


def list_eligible(p, est):
    access.require_role(p, *access.ELIGIBILITY_READERS)


def uplift(p, est):
    access.require_role(p, *access.UPLIFTERS)


def read_application(p, est):
    access.require_role(p, *access.APPLICATION_READERS)
    app, _ = draft(configs()["RESIDENTIAL"], est)
    access.readable_application(p, app)


def expected(role: str, own_provider: bool, is_admitted: bool) -> dict:
    hidden = 404
    sees = {
        "provider": "ok" if own_provider else hidden,
        "commissioner": "ok" if is_admitted else hidden,
        "lead": "ok",
        "contract_manager": "ok",
        "auditor": 403,
    }[role]
    allowed = lambda *roles, then="ok": then if role in roles else 403  # noqa: E731
    return {
        read_establishment: sees,
        change_establishment: allowed("provider", "lead", then=sees),
        lead_command: allowed("lead"),
        provider_command: allowed("provider", then=sees),
        export: allowed("lead", "contract_manager"),
        list_eligible: allowed("commissioner", "lead"),
        uplift: allowed("contract_manager", "lead"),
        read_application: allowed("provider", "lead", then="ok" if role == "lead" or own_provider
                                  else hidden),
    }


CASES = list(itertools.product(ROLES, (True, False), (True, False), (True, False)))


@pytest.mark.parametrize(("role", "own_authority", "own_provider", "is_admitted"), CASES)
def test_the_section_10_matrix(role, own_authority, own_provider, is_admitted):
    p = principal(role, OWN_AUTHORITY if own_authority else OTHER_AUTHORITY,
                  OWN_PROVIDER if own_provider else OTHER_PROVIDER)
    est = an_establishment(is_admitted)
    got = {check: outcome(lambda c=check: c(p, est)) for check in expected(role, True, True)}
    assert got == expected(role, own_provider, is_admitted)


def test_no_principal_is_forbidden_and_a_commissioner_sees_admitted_memberships_only():
    with pytest.raises(Forbidden, match="needs a principal"):
        access.require_role(None, *access.READERS)
    with pytest.raises(Forbidden, match="the auditor role may not do this"):
        access.require_role({"role": "auditor"}, *access.READERS)
    assert access.sees_admitted_memberships_only({"role": "commissioner"})
    assert not access.sees_admitted_memberships_only({"role": "lead"})
    assert access.establishments_scope(principal("provider", "WSCC", "p-9")) == {
        "provider_id": "p-9", "admitted_only": False}
    assert access.establishments_scope(principal("commissioner", "KCC", "x")) == {
        "provider_id": None, "admitted_only": True}
    assert not access.can_list_status({"role": "commissioner"}, "suspended")
    assert access.can_list_status({"role": "lead"}, "suspended")
    assert access.referral_authority({"role": "commissioner", "authority": "KCC"}) == "KCC"
    assert access.referral_authority({"role": "lead", "authority": None}) == "WSCC"
