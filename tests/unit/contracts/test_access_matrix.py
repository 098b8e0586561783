"""RULES §10 for the contracts service's objects, walked as one table: role × own/other
authority × own/other provider → allowed, 404 (existence must not leak) or 403 (a known
principal acting outside its rights). "Invited or not" is a referral matter (§10's referral
columns): no contracts object depends on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.common.errors import Forbidden, NotFound
from services.contracts import access, domain
from tests.support.contracts_builders import placement

OWN_AUTHORITY, OTHER_AUTHORITY = "KCC", "ESCC"
OWN_PROVIDER, OTHER_PROVIDER = "prov-1", "prov-2"

PRINCIPALS = {
    "commissioner/own authority": {"role": "commissioner", "authority": OWN_AUTHORITY},
    "commissioner/other authority": {"role": "commissioner", "authority": OTHER_AUTHORITY},
    "lead/own authority": {"role": "lead", "authority": OWN_AUTHORITY},
    "lead/other authority": {"role": "lead", "authority": OTHER_AUTHORITY},
    "provider/own provider": {"role": "provider", "provider_id": OWN_PROVIDER},
    "provider/other provider": {"role": "provider", "provider_id": OTHER_PROVIDER},
    "contract_manager": {"role": "contract_manager"},
    "auditor": {"role": "auditor"},
}
"""The lead "as commissioner of WSCC": its own authority is the one it acts for, so the
object's authority stands for WSCC's in the lead rows."""

OK, HIDDEN, REFUSED = "ok", 404, 403

# principal → (read placement, manage placement, sees child details,
#              read block, place in block)
MATRIX = {
    "commissioner/own authority": (OK, OK, True, OK, OK),
    "commissioner/other authority": (HIDDEN, HIDDEN, True, HIDDEN, HIDDEN),
    "lead/own authority": (OK, OK, True, OK, OK),
    "lead/other authority": (HIDDEN, HIDDEN, True, HIDDEN, HIDDEN),
    "provider/own provider": (OK, REFUSED, False, HIDDEN, HIDDEN),
    "provider/other provider": (HIDDEN, HIDDEN, False, HIDDEN, HIDDEN),
    "contract_manager": (OK, REFUSED, False, OK, REFUSED),
    "auditor": (HIDDEN, HIDDEN, False, HIDDEN, HIDDEN),
}

# principal's role → (list placements scope, overdue reviews scope, set uplift, benchmarks,
#                     cost shares, performance, create block, publication)
K, R = OWN_AUTHORITY, REFUSED
# fmt: off
ROLE_MATRIX = {
    "commissioner":     ({"authority": K},            K,    R,  OK, R,  R,  OK, OK),
    "lead":             ({"authority": K},            K,    R,  OK, OK, OK, OK, OK),
    "provider":         ({"provider_id": OWN_PROVIDER}, R,  R,  R,  R,  R,  R,  OK),
    "contract_manager": ({},                          None, OK, OK, OK, OK, R,  OK),
    "auditor":          (R,                           R,    R,  R,  R,  R,  R,  OK),
}
# fmt: on
ROLE_PRINCIPALS = {
    "commissioner": PRINCIPALS["commissioner/own authority"],
    "lead": PRINCIPALS["lead/own authority"],
    "provider": PRINCIPALS["provider/own provider"],
    "contract_manager": PRINCIPALS["contract_manager"],
    "auditor": PRINCIPALS["auditor"],
}


def outcome(call) -> object:
    """``OK``, ``404`` or ``403``."""
    try:
        call()
    except NotFound:
        return HIDDEN
    except Forbidden:
        return REFUSED
    return OK


def value_or_status(call) -> object:
    """What ``call`` returns, or ``404`` / ``403``."""
    try:
        return call()
    except NotFound:
        return HIDDEN
    except Forbidden:
        return REFUSED


def block() -> domain.BlockContract:
    return domain.BlockContract(
        "blk-1",
        OWN_AUTHORITY,
        OWN_PROVIDER,
        "est-1",
        "SEN",
        2,
        Decimal("3000.00"),
        date(2026, 4, 1),
        date(2027, 3, 31),
    )


@pytest.mark.parametrize("who", list(MATRIX))
def test_s10_placements_and_block_contracts_matrix(who):
    principal = PRINCIPALS[who]
    p = placement(authority=OWN_AUTHORITY, provider_id=OWN_PROVIDER)
    b = block()
    read, manage, details, read_block, place = MATRIX[who]
    assert outcome(lambda: access.can_read_placement(principal, p, p.placement_id)) == read
    assert outcome(lambda: access.can_manage_placement(principal, p, p.placement_id)) == manage
    assert access.sees_child_details(principal) is details
    assert outcome(lambda: access.can_read_block(principal, b, b.block_id)) == read_block
    assert outcome(lambda: access.can_place_in_block(principal, b, b.block_id)) == place


@pytest.mark.parametrize("who", list(MATRIX))
def test_s10_an_unknown_object_is_404_for_everyone(who):
    principal = PRINCIPALS[who]
    assert outcome(lambda: access.can_read_placement(principal, None, "nope")) == HIDDEN
    assert outcome(lambda: access.can_manage_placement(principal, None, "nope")) == HIDDEN
    assert outcome(lambda: access.can_read_block(principal, None, "nope")) == HIDDEN
    assert outcome(lambda: access.can_place_in_block(principal, None, "nope")) == HIDDEN


@pytest.mark.parametrize("role", list(ROLE_MATRIX))
def test_s10_role_rules_of_the_contracts_service(role):
    principal = ROLE_PRINCIPALS[role]
    scope, reviews, uplift, bench, shares, perf, create, publication = ROLE_MATRIX[role]
    assert value_or_status(lambda: access.placement_scope(principal)) == scope
    assert value_or_status(lambda: access.review_scope(principal)) == reviews
    assert outcome(lambda: access.can_set_uplift(principal)) == uplift
    assert outcome(lambda: access.can_read_benchmarks(principal)) == bench
    assert outcome(lambda: access.can_read_cost_shares(principal)) == shares
    assert outcome(lambda: access.can_read_performance(principal)) == perf
    assert outcome(lambda: access.can_create_block(principal)) == create
    assert outcome(lambda: access.can_read_publication(principal)) == publication


def test_s10_a_commissioner_without_an_authority_sees_nothing_and_makes_no_block():
    principal = {"role": "commissioner"}
    p = placement()
    assert outcome(lambda: access.can_read_placement(principal, p, p.placement_id)) == HIDDEN
    assert access.placement_scope(principal) == {"authority": "-"}
    assert outcome(lambda: access.can_create_block(principal)) == REFUSED
