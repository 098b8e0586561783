"""RULES §10 for the referral service's objects, walked as one table: role × own/other
authority × own/other provider × invited/not → allowed, 404 (existence would leak) or 403
(a known principal outside its rights)."""

from __future__ import annotations

import pytest

from services.common.errors import Forbidden, NotFound
from services.referral import access
from services.referral.domain import Referral
from services.referral.messages import ProviderReferralView, PublishRequest, ReferralView
from tests.support.referral_builders import (
    AUDITOR,
    BEFORE_DEADLINE,
    CONTRACT_MANAGER,
    LATER,
    LEAD,
    NOW,
    OTHER_COMMISSIONER,
    OWNER,
    WEIGHTS,
    provider,
    snapshot,
    spec,
    terms,
)

PRINCIPALS = {
    "commissioner/own authority": OWNER,
    "commissioner/other authority": OTHER_COMMISSIONER,
    "lead/other authority": LEAD,  # the lead acts for WSCC; the referral is KCC's
    "provider/invited, own bid": provider(1),
    "provider/invited, other's bid": provider(2),
    "provider/not invited": provider(9),
    "contract_manager": CONTRACT_MANAGER,
    "auditor": AUDITOR,
}


def kcc_referral() -> tuple[Referral, str]:
    """KCC's referral, published to E1–E3 (providers P1–P3), with P1's bid."""
    referral = Referral.create(OWNER, spec(), WEIGHTS, NOW)
    referral.publish(OWNER, PublishRequest(), [snapshot(i) for i in (1, 2, 3)], NOW)
    bid = referral.submit_bid(provider(1), terms(1), NOW)
    return referral, bid.bid_id


def outcome(call) -> object:
    try:
        return call()
    except NotFound:
        return 404
    except Forbidden:
        return 403


def read(p, r, _bid):
    view = r.view_for(p)
    return (
        "full"
        if isinstance(view, ReferralView)
        else ("anonymised" if isinstance(view, ProviderReferralView) else view)
    )


def write(p, r, _bid):
    access.require_owner(p, r, "publish this referral")
    return "ok"


def bids_before_deadline(p, r, _bid):
    view = r.visible_bids(p, BEFORE_DEADLINE)
    return "count only" if view.items is None else f"{len(view.items)} item(s)"


def bids_after_deadline(p, r, _bid):
    view = r.visible_bids(p, LATER)
    return "count only" if view.items is None else f"{len(view.items)} item(s)"


def change_bid(p, r, bid_id):
    access.require_own_bid(p, r, bid_id)
    return "ok"


def bid_for_e1(p, r, _bid):
    access.require_invited(p, r, "E1", "bid")
    return "ok"


ACTIONS = {
    "read": read,
    "write": write,
    "bids before deadline": bids_before_deadline,
    "bids after deadline": bids_after_deadline,
    "change P1's bid": change_bid,
    "act for E1": bid_for_e1,
}

# principal: read, write, bids before, bids after, change P1's bid, act for E1
MATRIX = {
    "commissioner/own authority": ("full", "ok", "count only", "1 item(s)", 403, 403),
    "commissioner/other authority": (404, 404, 404, 404, 404, 404),
    "lead/other authority": (404, 404, 404, 404, 404, 404),
    "provider/invited, own bid": ("anonymised", 403, "1 item(s)", "1 item(s)", "ok", "ok"),
    "provider/invited, other's bid": ("anonymised", 403, "0 item(s)", "0 item(s)", 404, 403),
    "provider/not invited": (404, 404, 404, 404, 404, 404),
    "contract_manager": (403, 403, 403, 403, 403, 403),
    "auditor": (403, 403, 403, 403, 403, 403),
}

CASES = [
    (who, action, expected)
    for who, row in MATRIX.items()
    for action, expected in zip(ACTIONS, row, strict=True)
]


@pytest.mark.parametrize(("who", "action", "expected"), CASES)
def test_the_section_10_matrix_for_a_referral(who, action, expected):
    referral, bid_id = kcc_referral()
    assert outcome(lambda: ACTIONS[action](PRINCIPALS[who], referral, bid_id)) == expected


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (LEAD, "full"),  # the lead owns WSCC's referrals (§10 "as commissioner of WSCC")
        ({"role": "commissioner", "authority": "WSCC"}, "full"),
        (OWNER, 404),
    ],
)
def test_the_lead_is_the_commissioner_of_wscc(principal, expected):
    referral = Referral.create(LEAD, spec(), WEIGHTS, NOW)
    assert referral.authority == "WSCC"
    assert outcome(lambda: read(principal, referral, None)) == expected


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (OWNER, ("authority", "KCC")),
        (LEAD, ("authority", "WSCC")),
        (provider(1), ("provider", "P1")),
        (CONTRACT_MANAGER, 403),
        (AUDITOR, 403),
    ],
)
def test_who_lists_which_referrals(principal, expected):
    assert outcome(lambda: access.referral_list_scope(principal)) == expected


@pytest.mark.parametrize(
    ("principal", "expected"),
    [(OWNER, "KCC"), (LEAD, "WSCC"), (provider(1), 403), (CONTRACT_MANAGER, 403), (AUDITOR, 403)],
)
def test_only_commissioners_create_referrals_and_direct_placements(principal, expected):
    assert outcome(lambda: access.require_commissioner(principal, "creates referrals")) == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("commissioner/own authority", "ok"),
        ("commissioner/other authority", 404),
        ("lead/other authority", 404),
        ("provider/invited, own bid", 403),  # own bid's inputs are in its feedback
        ("provider/not invited", 404),
        ("contract_manager", 403),
        ("auditor", "ok"),  # issue 15: the auditor replays awards
    ],
)
def test_who_reads_a_stored_evaluation(who, expected):
    referral, _ = kcc_referral()
    result = outcome(lambda: access.require_evaluation_reader(PRINCIPALS[who], referral) or "ok")
    assert result == expected
