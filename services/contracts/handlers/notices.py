"""Procurement Act 2023 notices (RULES §11.4): raised from the events of the market and its
call-offs and from contracts' own placement lifecycle, each once under its key; read as a
feed and a due list by the lead and the contract manager; marked published on Find a Tender.

Raising (``raise_*``) runs inside the consuming entrypoint's (or the placement handler's)
unit of work; the caller commits. A notice's key makes redelivery harmless:
``UK13:<dps_id>``, ``UK14:<dps_id>``, ``UK16:<dps_id>``, ``UK15:<dps_id>:<event id>``,
``UK4:<referral>``, ``UK6:<referral or direct placement>``, ``UK7:<placement>``,
``UK11:<placement>``, ``UK12:<referral>``. Nothing is raised under the PCR 2015 DPS, below the
light touch threshold or for a user choice direct award (``domain.notice_rules``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.common import paging
from services.common.errors import Conflict, Forbidden, NotFound
from services.common.logging import get_logger
from services.contracts import domain
from services.contracts.domain import call_off_notices as cb
from services.contracts.domain import notice_rules as rules
from services.contracts.domain import notices as nb
from services.contracts.handlers.common import bad_cursor, today
from services.contracts.messages import NoticeMarkPublished, NoticesQuery

log = get_logger(__name__)

READERS = ("lead", "contract_manager")


def _store(uow, *, key: str, code: str, release: dict, due_by: date | None, at: datetime,
           dps_id: str | None, authority: str | None, event_id: str | None) -> bool:
    """Keep a notice once; audited (§9). The release holds no child data (§13)."""
    if not uow.store.insert_notice(notice_id=key, notice_type=code, release=release,
                                   due_by=due_by, raised_at=at, dps_id=dps_id,
                                   authority=authority, source_event_id=event_id):
        return False
    uow.audit("notice.raised", "notice", key[:100], None,
              {"notice_type": code, "ocid": release["ocid"],
               "due_by": due_by.isoformat() if due_by else None})
    log.info("notice raised", notice_type=code, ocid=release["ocid"])
    return True


def _market(uow, dps_id: str | None, regime: str | None, title: str | None,
            authority: str | None = None) -> nb.Market:
    known = uow.store.market(dps_id)
    if known is not None:
        return known
    return nb.Market(dps_id=dps_id or "dps-1", regime=regime or rules.PCR2015_DPS,
                     title=title or dps_id or "Dynamic market",
                     lead_authority=authority or "WSCC")


# --- the market (UK13, UK14, UK15, UK16) -------------------------------------------------


def record_market(event, uow, config, status: str) -> None:
    """``market_created`` (UK13, s.39(2)) / ``market_established`` (UK14, s.39(3))."""
    uow.store.upsert_market({
        "dps_id": event.dps_id, "regime": event.regime, "title": event.title,
        "description": event.description,
        "parts": [p.model_dump(mode="json") for p in event.parts],
        "valid_from": event.valid_from, "valid_to": event.valid_to,
        "fee_percent": event.fee_percent, "lead_authority": event.lead_authority,
        "status": status,
    }, uow.now())
    if not rules.under_act(event.regime):
        return
    code = "UK13" if status == "created" else "UK14"
    market = uow.store.market(event.dps_id)
    release = nb.market_notice(code, market, event.occurred_at, config.notices())
    day = event.occurred_at.astimezone(UTC).date()
    due = (event.valid_from or day) if code == "UK13" else day
    _store(uow, key=f"{code}:{event.dps_id}", code=code, release=release, due_by=due,
           at=event.occurred_at, dps_id=event.dps_id, authority=event.lead_authority,
           event_id=event.event_id)


def record_market_ended(event, uow, config) -> None:
    """``market_ended`` (UK16, s.39(5)): due on the day it ends."""
    uow.store.end_market(event.dps_id, event.ended_on, uow.now(), regime=event.regime,
                         title=event.title, lead_authority=config.lead_authority)
    if not rules.under_act(event.regime):
        return
    market = _market(uow, event.dps_id, event.regime, event.title, config.lead_authority)
    release = nb.market_notice("UK16", market, event.occurred_at, config.notices(),
                               ended_on=event.ended_on)
    _store(uow, key=f"UK16:{event.dps_id}", code="UK16", release=release,
           due_by=event.ended_on, at=event.occurred_at, dps_id=event.dps_id,
           authority=market.lead_authority, event_id=event.event_id)


def record_member_change(event, uow, config, change: str) -> None:
    """Each admission and removal of a supplier under a dynamic market is a modification:
    UK15 (reg 25(6)), due the day it happens. The removal's reasons are not published."""
    uow.store.set_provider_identifiers(
        event.provider_id, uow.now(), name=event.provider_name, ppon=event.ppon,
        companies_house_number=event.companies_house_number)
    if not rules.under_act(event.regime) or not event.dps_id:
        return
    market = _market(uow, event.dps_id, event.regime, None, config.lead_authority)
    prefix = f"UK15:{event.dps_id}:"
    sequence = str(uow.store.notice_count(prefix) + 1)
    supplier = uow.store.supplier(event.provider_id, event.provider_name)
    at = event.occurred_at or uow.now()
    release = nb.market_notice("UK15", market, at, config.notices(), sequence=sequence,
                               member=supplier, change=change, part_number=event.part_number)
    _store(uow, key=f"{prefix}{event.event_id}", code="UK15", release=release,
           due_by=at.astimezone(UTC).date(), at=at, dps_id=event.dps_id,
           authority=market.lead_authority, event_id=event.event_id)


# --- call-offs (UK4, UK6, UK12) ------------------------------------------------------------


def _call_off(uow, event, process_id: str, *, title: str | None = None,
              deadline: datetime | None = None, direct: bool = False) -> nb.CallOff:
    market = uow.store.market(event.dps_id)
    return nb.CallOff(
        process_id=process_id, authority=event.authority, category=event.category,
        dps_id=event.dps_id or "dps-1", market_title=market.title if market else None,
        title=title, estimated_value=event.estimated_value,
        above_threshold=rules.above_threshold(event.above_threshold, event.estimated_value),
        deadline=deadline, direct=direct)


def _applies(event, reason_code: str | None = None) -> bool:
    return rules.call_off_notices_apply(event.regime, event.above_threshold,
                                        event.estimated_value, reason_code)


def record_published(event, uow, config) -> None:
    """``referral_published`` → UK4 (s.21), due that day."""
    if not _applies(event):
        return
    deadline = event.deadline or (event.profile.deadline if event.profile else None)
    c = _call_off(uow, event, event.referral_id, title=event.title, deadline=deadline)
    release = cb.tender_notice(c, event.occurred_at, config.notices())
    _store(uow, key=f"UK4:{event.referral_id}", code="UK4", release=release,
           due_by=event.occurred_at.astimezone(UTC).date(), at=event.occurred_at,
           dps_id=event.dps_id, authority=event.authority, event_id=event.event_id)


def record_awarded(event, uow, config) -> None:
    """``referral_awarded`` → UK6 (s.50) after the assessment summaries; with a voluntary
    standstill due 8 working days before it ends (s.51). Then UK7 when the IPA is entered
    at award (no standstill)."""
    if not _applies(event):
        return
    c = _call_off(uow, event, event.referral_id)
    supplier = uow.store.supplier(event.provider_id, event.provider_name)
    release = cb.award_notice(
        c, supplier, contract_id=event.placement_id, awarded_at=event.awarded_at,
        weekly_price=event.price.weekly_price, config=config.notices(),
        standstill_ends_on=event.standstill_ends_on,
        summaries_released_at=event.summaries_released_at, bids_count=event.bids_count)
    due = rules.uk6_due(event.awarded_at.astimezone(UTC).date(), event.standstill_ends_on)
    _store(uow, key=f"UK6:{event.referral_id}", code="UK6", release=release, due_by=due,
           at=event.awarded_at, dps_id=event.dps_id, authority=event.authority,
           event_id=event.event_id)
    placement = uow.store.get_placement(event.placement_id)
    if placement is not None:
        raise_contract_details(uow, placement, config)


def record_direct(event, uow, config) -> None:
    """A direct placement under a dynamic market (not a user choice, Schedule 5 paras 15–17)
    → UK6 and UK7, entered when recorded."""
    if not _applies(event, event.direct_reason):
        return
    c = _call_off(uow, event, event.direct_placement_id, direct=True)
    supplier = uow.store.supplier(event.provider_id, event.provider_name)
    release = cb.award_notice(c, supplier, contract_id=event.placement_id,
                              awarded_at=event.occurred_at, weekly_price=event.weekly_price,
                              config=config.notices())
    _store(uow, key=f"UK6:{event.direct_placement_id}", code="UK6", release=release,
           due_by=event.occurred_at.astimezone(UTC).date(), at=event.occurred_at,
           dps_id=event.dps_id, authority=event.authority, event_id=event.event_id)
    placement = uow.store.get_placement(event.placement_id)
    if placement is not None:
        raise_contract_details(uow, placement, config)


def record_terminated(event, uow, config, outcome: str) -> None:
    """A published referral cancelled or unsuccessful → UK12 (s.55), due that day. A
    cancellation whose event does not say whether it was published counts as published when
    its UK4 exists."""
    if not _applies(event):
        return
    if outcome == "cancelled":
        published = getattr(event, "was_published", None)
        if published is None:
            published = uow.store.notice(f"UK4:{event.referral_id}") is not None
        if not published:
            return
    c = _call_off(uow, event, event.referral_id)
    release = cb.procurement_termination_notice(c, event.occurred_at, outcome,
                                                config.notices())
    _store(uow, key=f"UK12:{event.referral_id}", code="UK12", release=release,
           due_by=event.occurred_at.astimezone(UTC).date(), at=event.occurred_at,
           dps_id=event.dps_id, authority=event.authority, event_id=event.event_id)


# --- the placement's contract (UK7, UK11) ------------------------------------------------


def _placement_call_off(uow, p: domain.Placement) -> nb.CallOff | None:
    reason = p.reason_code if p.source is domain.PlacementSource.DIRECT_PLACEMENT else None
    if p.source is domain.PlacementSource.BLOCK_PLACE or not rules.call_off_notices_apply(
            p.regime, p.above_threshold, p.estimated_value, reason):
        return None
    market = uow.store.market(p.dps_id)
    return nb.CallOff(
        process_id=p.source_ref, authority=p.authority, category=p.category,
        dps_id=p.dps_id or "dps-1", market_title=market.title if market else None,
        estimated_value=p.estimated_value,
        above_threshold=rules.above_threshold(p.above_threshold, p.estimated_value),
        direct=reason is not None)


def raise_contract_details(uow, p: domain.Placement, config) -> None:
    """UK7 (s.53) once the placement agreement is entered: due 120 days after."""
    c = _placement_call_off(uow, p)
    if c is None or p.entered_on is None:
        return
    supplier = uow.store.supplier(p.provider_id, p.provider_name or None)
    release = cb.contract_details_notice(
        c, supplier, contract_id=p.placement_id, entered_on=p.entered_on,
        weekly_price=p.awarded_weekly_price, config=config.notices(),
        start_date=p.start_date, at=uow.now())
    _store(uow, key=f"UK7:{p.placement_id}", code="UK7", release=release,
           due_by=rules.uk7_due(p.entered_on), at=uow.now(), dps_id=p.dps_id,
           authority=p.authority, event_id=None)


def placement_started(uow, p: domain.Placement, config) -> None:
    """A placement whose award had a voluntary standstill is entered when it starts
    (§11.4): record the day and raise its UK7."""
    if p.entered_on is None and p.start_date is not None:
        p.entered_on = p.start_date
        uow.store.set_entered_on(p.placement_id, p.start_date)
    raise_contract_details(uow, p, config)


def placement_ended(uow, p: domain.Placement, config) -> None:
    """UK11 (s.80) when the placement ends: due within 30 days."""
    c = _placement_call_off(uow, p)
    if c is None or p.ended_on is None:
        return
    supplier = uow.store.supplier(p.provider_id, p.provider_name or None)
    release = cb.termination_notice(
        c, supplier, contract_id=p.placement_id, ended_on=p.ended_on,
        planned=p.end_reason is domain.EndReason.PLANNED,
        weekly_price=p.awarded_weekly_price, config=config.notices(),
        start_date=p.start_date, at=uow.now())
    _store(uow, key=f"UK11:{p.placement_id}", code="UK11", release=release,
           due_by=rules.uk11_due(p.ended_on), at=uow.now(), dps_id=p.dps_id,
           authority=p.authority, event_id=None)


# --- reading and marking published (§11.4, §10) ------------------------------------------


def _check_reader(principal: dict) -> None:
    if principal.get("role") not in READERS:
        raise Forbidden(f"the {principal.get('role')} role does not read notices")


def notice_view(row) -> dict:
    release = row.release
    if row.published_at is not None:
        release = nb.with_publication(release, row.fts_notice_id, row.published_at)
    return {
        "notice_id": row.notice_id,
        "notice_type": row.notice_type,
        "title": rules.NOTICE_TITLES.get(row.notice_type, row.notice_type),
        "ocid": row.ocid,
        "dps_id": row.dps_id,
        "authority": row.authority,
        "raised_at": row.raised_at.isoformat(),
        "due_by": row.due_by.isoformat() if row.due_by else None,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "fts_notice_id": row.fts_notice_id,
        "release": release,
    }


def list_notices(query: NoticesQuery, uow, principal: dict, config) -> dict:
    """``GET /notices``: the releases raised in ``from``..``to`` of a type, in order; with
    ``due=true`` those due within the configured days or overdue and not yet published,
    most urgent first (§11.4)."""
    _check_reader(principal)
    day = today(uow)
    if query.due:
        rows = uow.store.unpublished_notices(query.type)
        by_id = {r.notice_id: r for r in rows}
        due = rules.due_list(
            (rules.DueNotice(r.notice_id, r.notice_type, r.due_by) for r in rows), day,
            config.notices_due_within_days)
        items = [{**notice_view(by_id[d["notice_id"]]), **d} for d in due]
        return {"items": items, "next_cursor": None, "as_of": day.isoformat()}
    after = paging.decode(query.cursor)
    if after is not None:
        try:
            after = (datetime.fromisoformat(after[0]), str(after[1]))
        except (TypeError, ValueError, IndexError, KeyError):
            raise bad_cursor() from None
    rows = uow.store.list_notices(notice_type=query.type, start=query.from_, end=query.to,
                                  after=after, limit=query.limit + 1)
    items = [{**notice_view(r), "_key": [r.raised_at.isoformat(), r.notice_id]} for r in rows]
    result = paging.page(items, query.limit, key=lambda v: v["_key"])
    for item in result["items"]:
        item.pop("_key", None)
    result["as_of"] = day.isoformat()
    return result


def get_notice(notice_id: str, uow, principal: dict) -> dict:
    """One notice and its release (§11.4), for the lead and the contract manager."""
    _check_reader(principal)
    row = uow.store.notice(notice_id)
    if row is None:
        raise NotFound(f"notice {notice_id} not found")
    return notice_view(row)


def mark_published(notice_id: str, data: NoticeMarkPublished, uow, principal: dict) -> dict:
    """The notice was published on Find a Tender under ``fts_notice_id``: it leaves the due
    list. Marking it again with the same id changes nothing; another id is a 409."""
    _check_reader(principal)
    row = uow.store.notice(notice_id, for_update=True)
    if row is None:
        raise NotFound(f"notice {notice_id} not found")
    if row.published_at is not None:
        if row.fts_notice_id != data.fts_notice_id:
            raise Conflict(f"notice {notice_id} was marked published as {row.fts_notice_id}")
        return notice_view(row)
    at = data.published_at or uow.now()
    by = {"id": principal.get("id"), "role": principal.get("role")}
    uow.store.mark_notice_published(notice_id, data.fts_notice_id, at, by)
    uow.audit("notice.published", "notice", notice_id[:100], {"published_at": None},
              {"published_at": at.isoformat(), "fts_notice_id": data.fts_notice_id})
    uow.commit()
    return notice_view(uow.store.notice(notice_id))
