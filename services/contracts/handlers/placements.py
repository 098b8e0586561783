"""Placements: list, read, start, end and vary (RULES §7.1, §7.2; access §10)."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.common import paging
from services.common.errors import Forbidden
from services.contracts import access, domain
from services.contracts.handlers import notices
from services.contracts.handlers.common import bad_cursor, placement_view, today
from services.contracts.messages import (
    PlacementEnd,
    PlacementEnded,
    PlacementQuery,
    PlacementsQuery,
    PlacementStart,
    VariationCreate,
)


def list_placements(query: PlacementsQuery, uow, principal: dict) -> dict:
    """``GET /placements``: own authority, own provider (no child details) or all (§10)."""
    scope = access.placement_scope(principal)
    after = paging.decode(query.cursor)
    if after is not None:
        try:
            after = (datetime.fromisoformat(after[0]), str(after[1]))
        except (TypeError, ValueError, IndexError):
            raise bad_cursor() from None
    rows = uow.store.list_placements(
        status=query.status,
        category=query.category,
        establishment_id=query.establishment_id,
        after=after,
        limit=query.limit + 1,
        **scope,
    )
    day = today(uow)
    names = uow.store.provider_names([p.provider_id for p, _ in rows if not p.provider_name])
    details = access.sees_child_details(principal)
    items = []
    for p, next_due in rows:
        view = domain.placement_view(p, on=day, include_child_details=details)
        view["next_review_due"] = next_due.isoformat() if next_due else None
        view["provider_name"] = p.provider_name or names.get(p.provider_id, "")
        view["_key"] = [p.agreed_at.isoformat(), p.placement_id]
        items.append(view)
    result = paging.page(items, query.limit, key=lambda v: v["_key"])
    for item in result["items"]:
        item.pop("_key", None)
    return result


def get_placement(placement_id: str, query: PlacementQuery, uow, principal: dict) -> dict:
    p = access.can_read_placement(principal, uow.store.get_placement(placement_id), placement_id)
    return placement_view(uow, p, principal, query.on)


def _managed(uow, placement_id: str, principal: dict) -> domain.Placement:
    """The placement, locked, for its owning authority to act on (§10)."""
    found = uow.store.get_placement(placement_id, for_update=True)
    return access.can_manage_placement(principal, found, placement_id)


def start_placement(placement_id: str, data: PlacementStart, uow, principal: dict,
                    config=None) -> dict:
    """§7.1 ``pending_start → active`` on the actual start date; never within the award's
    voluntary standstill (409, §11.4). Entering the contract raises its UK7 (s.53)."""
    p = _managed(uow, placement_id, principal)
    before = domain.placement_state(p)
    p.start(data.date)
    reviews = uow.store.reviews_of(p.placement_id)
    uow.store.update_placement(p, uow.now(), domain.next_review_due(p, reviews))
    if config is not None:
        notices.placement_started(uow, p, config)
    uow.audit(
        "placement.started",
        "placement",
        p.placement_id,
        before,
        {**domain.placement_state(p), "reason": data.reason},
    )
    uow.commit()
    return placement_view(uow, p, principal)


def end_placement(placement_id: str, data: PlacementEnd, uow, principal: dict,
                  config=None) -> dict:
    """§7.1 ``active → ended`` with an end reason, or ``pending_start → ended`` with
    ``did_not_start``; under a dynamic market its UK11 is due within 30 days (s.80)."""
    p = _managed(uow, placement_id, principal)
    before = domain.placement_state(p)
    p.end(data.date, data.reason, data.note)
    uow.store.update_placement(p, uow.now(), None)
    if config is not None:
        notices.placement_ended(uow, p, config)
    uow.audit("placement.ended", "placement", p.placement_id, before, domain.placement_state(p))
    uow.emit(PlacementEnded(occurred_at=uow.now(), placement_id=p.placement_id,
                            authority=p.authority, child_key_id=p.child_key_id,
                            ended_on=p.ended_on))  # §13: the retention clock starts
    uow.commit()
    return placement_view(uow, p, principal)


def vary_placement(placement_id: str, data: VariationCreate, uow, principal: dict) -> dict:
    """§7.2: every price change is a dated variation with a reason."""
    changes = data.changes
    p = _managed(uow, placement_id, principal)
    before = p.price_on(data.effective_from).to_dict()
    v = p.vary(
        variation_id=str(uuid.uuid4()),
        effective_from=data.effective_from,
        reason=data.reason,
        recorded_at=uow.now(),
        core_costs=changes.core_costs,
        variable_costs=None
        if changes.variable_costs is None
        else [domain.VariableItem(i.label, i.weekly) for i in changes.variable_costs],
        discount_percent=changes.discount_percent,
    )
    uow.store.insert_variation(p.placement_id, v)
    uow.audit(
        "placement.varied",
        "placement",
        p.placement_id,
        before,
        {"variation": v.to_dict(), "price": p.price_on(data.effective_from).to_dict()},
    )
    uow.commit()
    view = placement_view(uow, p, principal, data.effective_from)
    return {**view, "variation": v.to_dict()}


def child_export(key_ids: list[str], uow, principal: dict) -> dict:
    """§13 subject access: the owner's placements (with reviews and the child reference)
    sealed under the child's data keys; audited."""
    if not access.sees_child_details(principal) or not principal.get("authority"):
        raise Forbidden("only the owning authority exports a child's data")
    ids = uow.store.placement_ids_under_keys(principal["authority"], [str(k) for k in key_ids])
    items = [placement_view(uow, uow.store.get_placement(i), principal) for i in ids]
    if ids:
        uow.audit("child_data.exported", "placement", ",".join(ids)[:100], None,
                  {"placements": ids})
    uow.commit()
    return {"placements": items}
