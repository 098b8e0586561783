"""Uplifts of qualified core costs (RULES §7.2), by RPC or from contracts' ``uplift_set``."""

from __future__ import annotations

from services.common.errors import Conflict, InvalidInput
from services.common.logging import get_logger
from services.common.validation import parse
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers.common import flush, summaries

log = get_logger(__name__)


def apply_uplift(command: m.UpliftRequest, uow, principal: dict | None) -> dict:
    """§7.2: raise one cost head of the category's current memberships by a percentage
    from a date, keeping the price history. Idempotent by ``uplift_id``. Contracts calls it
    without a principal; through the gateway, the contract manager or the lead."""
    if principal is not None:
        access.require_role(principal, *access.UPLIFTERS)
    with uow:
        result = uplift(command, uow)
        uow.commit()
    return result.model_dump(mode="json")


def on_uplift_set(event: m.UpliftSet, uow) -> None:
    """§7.2 from contracts; a refusal (unknown category or head) is logged and the event
    acknowledged, never retried (nothing is written but the claim)."""
    try:
        req = parse(m.UpliftRequest, {
            "uplift_id": event.uplift_id,
            "category": event.category,
            "cost_head": event.cost_head,
            "percent": str(event.percent),
            "effective_from": event.effective_from.isoformat(),
        })
        result = uplift(req, uow)
    except (Conflict, InvalidInput) as exc:
        log.error("uplift_set refused", uplift_id=event.uplift_id, error=exc.detail)
        return
    log.info("uplift applied", uplift_id=req.uplift_id, applied=len(result.applied),
             skipped=len(result.skipped), already=result.already_applied)


def uplift(req: m.UpliftRequest, uow) -> m.UpliftResult:
    """The uplift loop, in an open unit of work (the caller commits). Checks come before
    any write, so a refusal leaves nothing to roll back."""
    store, now = uow.store, uow.now()
    today = d.london_date(now)
    store.lock_uplift(req.uplift_id)
    done = store.uplift_applied(req.uplift_id)
    if done is not None:
        return m.UpliftResult(uplift_id=req.uplift_id, already_applied=True,
                              applied=done["applied"], skipped=done["skipped"])
    config = store.current_configs(now)[req.category]
    if req.cost_head not in config.all_cost_heads:
        raise InvalidInput.at(["cost_head"], f"not a cost head of {req.category}")
    repo = store.establishments
    applied, skipped = [], []
    for est in repo.get_many(repo.current_ids(req.category), lock=True).values():
        before = summaries(est, today)
        try:
            event = est.apply_uplift(config, req.cost_head, req.percent, req.effective_from,
                                     req.uplift_id, now)
        except Conflict as exc:
            log.warning("uplift not applied to an establishment", uplift_id=req.uplift_id,
                        establishment_id=est.id, reason=exc.detail)
            skipped.append({"establishment_id": est.id, "reason": exc.detail})
            continue
        if event is None:
            skipped.append({"establishment_id": est.id,
                            "reason": "no price of the head in force on the effective date"})
            continue
        applied.append(est.id)
        flush(uow, est, now)
        uow.audit("membership.core_costs_changed", "membership", event.membership_id,
                  before.get(event.membership_id), {
                      "cost_head": event.cost_head,
                      "old": str(event.old),
                      "new": str(event.new),
                      "effective_from": str(event.effective_from),
                      "uplift_id": req.uplift_id,
                      "establishment_id": est.id,
                  })
    store.record_uplift(req, now, applied, skipped)
    uow.audit("uplift.applied", "uplift", req.uplift_id, None,
              {**req.model_dump(mode="json"), "applied": len(applied), "skipped": len(skipped)})
    return m.UpliftResult(uplift_id=req.uplift_id, already_applied=False, applied=applied,
                          skipped=skipped)
