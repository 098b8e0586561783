"""Common annual uplifts (RULES §7.2)."""

from __future__ import annotations

import uuid

from services.common.errors import Conflict, InvalidInput
from services.contracts import access, domain
from services.contracts.handlers.common import apply_uplift
from services.contracts.messages import UpliftCreate, UpliftSet, UpliftsQuery


def set_uplift(data: UpliftCreate, uow, principal: dict, peers) -> dict:
    """The contract manager's common annual uplift of one core head in one category: from its
    effective date on the same head of every placement agreed before that date and not ended
    by then (never variable costs), and — through ``uplift_set`` — on the qualified core costs
    of admitted establishments (§7.2). One uplift per category at a time (advisory lock)."""
    access.can_set_uplift(principal)
    heads = peers.core_cost_heads(data.category)
    if heads is None:
        raise InvalidInput.at(["category"], f"unknown category {data.category!r}")
    if data.cost_head not in heads:
        raise InvalidInput.at(["cost_head"], f"{data.cost_head!r} is not a core cost head of "
                                             f"{data.category}")
    uplift = domain.Uplift(
        str(uuid.uuid4()), data.category, data.cost_head, data.percent, data.effective_from
    )
    uow.store.lock(f"uplift:{uplift.category}")
    if uow.store.uplift_exists(uplift.category, uplift.cost_head, uplift.effective_from):
        raise Conflict(
            f"an uplift of {uplift.cost_head} in {uplift.category} from "
            f"{uplift.effective_from} is already set"
        )
    count = 0
    for p in uow.store.placements_for_uplift(
        uplift.category, uplift.cost_head, uplift.effective_from
    ):
        v = apply_uplift(uow, p, uplift)
        if v is None:
            continue
        uow.audit("placement.uplifted", "placement", p.placement_id, None, v.to_dict())
        count += 1
    uow.store.insert_uplift(uplift, count, uow.now(), principal)
    view = domain.uplift_view(uplift, count, uow.now())
    uow.audit("uplift.set", "uplift", uplift.uplift_id, None, view)
    uow.emit(
        UpliftSet(
            uplift_id=uplift.uplift_id,
            category=uplift.category,
            cost_head=uplift.cost_head,
            percent=uplift.percent,
            effective_from=uplift.effective_from,
        )
    )
    uow.commit()
    return view


def list_uplifts(query: UpliftsQuery, uow, principal: dict) -> dict:
    """The uplifts set (§7.2), newest effective date first."""
    access.can_read_uplifts(principal)
    records = uow.store.uplift_records(query.category)
    return {"items": [domain.uplift_view(u, count, at) for u, count, at in records],
            "next_cursor": None}
