"""Markets (RULES §11.1): several DPSs and dynamic markets over time, each with its regime;
the lead creates, establishes, changes and ends them, and migrates a PCR 2015 DPS to a
dynamic market (every admitted establishment invited, its application pre-filled)."""

from __future__ import annotations

from dataclasses import replace

from services.common.errors import Conflict, InvalidInput, NotFound
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers.common import application_summary


def _view(mk: d.Market, now) -> dict:
    return mk.to_view(d.london_date(now)).model_dump(mode="json")


def market_for(uow, dps_id: str | None, *, lock: bool = False) -> d.Market:
    """The market ``dps_id``, or the default one (NotFound / 422 naming ``dps_id``)."""
    mk = uow.store.default_market() if dps_id is None else uow.store.market(dps_id, lock=lock)
    if mk is None:
        if dps_id is None:
            raise NotFound("no default market")
        raise InvalidInput.at(["dps_id"], f"no market {dps_id!r}")
    return mk


def _emit(uow, mk: d.Market) -> None:
    for event in mk.events:
        uow.emit(event)
    mk.events.clear()


def get_dps(command: None, uow, principal: dict | None = None) -> dict:
    """GET /dps: the default market, §3's fields and its regime (§11.1)."""
    with uow:
        mk = market_for(uow, None)
        return mk.dps_view(d.london_date(uow.now())).model_dump(mode="json")


def list_markets(command: None, uow, principal: dict | None) -> dict:
    access.require_role(principal, *access.READERS)
    with uow:
        now = uow.now()
        return {"items": [_view(mk, now) for mk in uow.store.markets()], "next_cursor": None}


def get_market(dps_id: str, uow, principal: dict | None) -> dict:
    access.require_role(principal, *access.READERS)
    with uow:
        mk = uow.store.market(dps_id)
        if mk is None:
            raise NotFound(f"no market {dps_id}")
        return _view(mk, uow.now())


def create_market(command: m.MarketCreate, uow, principal: dict | None, *,
                  lead_authority: str, migrated_from: str | None = None) -> dict:
    """§11.1: a dynamic market (planned; UK13 intention), or the record of a PCR 2015 DPS
    established before 24 February 2025 (refused otherwise, SI 2024/716 reg 5)."""
    principal = access.require_role(principal, *access.LEAD)
    with uow:
        now = uow.now()
        mk = _create(uow, command, principal, lead_authority, migrated_from)
        uow.commit()
    return _view(mk, now)


def _create(uow, command, principal, lead_authority, migrated_from=None) -> d.Market:
    now = uow.now()
    mk = d.new_market(command, d.new_id(), lead_authority, now, d.london_date(now),
                      list(uow.store.current_configs(now)), migrated_from=migrated_from)
    uow.store.lock_dps()
    uow.store.add_market(mk, now, principal)
    uow.audit("market.created", "market", mk.dps_id, None, _view(mk, now))
    _emit(uow, mk)
    return mk


def _command(uow, dps_id: str, principal, action: str, change) -> dict:
    principal = access.require_role(principal, *access.LEAD)
    with uow:
        now, today = uow.now(), d.london_date(uow.now())
        uow.store.lock_dps()
        mk = uow.store.market(dps_id, lock=True)
        if mk is None:
            raise NotFound(f"no market {dps_id}")
        before = _view(mk, now)
        change(mk, now, today, principal)
        uow.store.save_market(mk)
        after = _view(mk, now)
        uow.audit(action, "market", dps_id, before, after)
        _emit(uow, mk)
        uow.commit()
    return after


_PERIOD_KEYS = ("valid_from", "valid_to", "entry_open", "closed_from", "closed_until")


def update_market(command: m.MarketPatch, uow, principal: dict | None, *, dps_id: str) -> dict:
    """PATCH /markets/{id}: the period and entry (§3; a PCR DPS's period is frozen after
    23 February 2026 and ends by 23 February 2029, §11.1), title, fee (planned only), the
    default flag."""
    patch = command.model_dump(exclude_unset=True)

    def change(mk: d.Market, now, today, by) -> None:
        period = {k: v for k, v in patch.items() if k in _PERIOD_KEYS}
        rest = {k: v for k, v in patch.items() if k not in _PERIOD_KEYS}
        if not patch:
            raise InvalidInput("the change is empty", [{"loc": [], "msg": "nothing to change"}])
        if rest:
            mk.change(rest, today)
        if period:
            _change_period(uow, mk, period, now, today, by)

    return _command(uow, dps_id, principal, "market.changed", change)


def _change_period(uow, mk: d.Market, period: dict, now, today, by) -> int:
    if mk.state == "ended":
        raise Conflict(f"the market {mk.dps_id} has ended")
    after = d.apply_dps_change(mk.settings, period, today)
    d.check_period_change(mk, mk.settings, after, today)
    version = uow.store.save_dps(after, now, by, mk.dps_id)
    mk.settings = after
    return version


def update_dps(command: m.DpsPatch, uow, principal: dict | None) -> dict:
    """PATCH /dps (§3): the default market's period and entry (§11.1 for a PCR DPS)."""
    principal = access.require_role(principal, *access.LEAD)
    patch = command.model_dump(exclude_unset=True)
    with uow:
        now, today = uow.now(), d.london_date(uow.now())
        uow.store.lock_dps()
        mk = market_for(uow, None)
        before = mk.settings.to_view(today).model_dump(mode="json")
        version = _change_period(uow, mk, patch, now, today, principal) if patch else None
        if version is None:
            raise InvalidInput("the change is empty", [{"loc": [], "msg": "nothing to change"}])
        view = mk.dps_view(today).model_dump(mode="json")
        uow.audit("dps.changed", "dps", "dps", before, {**view, "version": version})
        uow.commit()
    return view


def establish_market(dps_id: str, uow, principal: dict | None) -> dict:
    """s.39(3): the market is established (UK14)."""
    return _command(uow, dps_id, principal, "market.established",
                    lambda mk, now, today, by: mk.establish(now, today))


def end_market(command: m.MarketEnd, uow, principal: dict | None, *, dps_id: str) -> dict:
    """s.39(5): the market ends (UK16), today or on a later day of its period."""
    return _command(uow, dps_id, principal, "market.ended",
                    lambda mk, now, today, by: mk.end(command.ended_on or today, now, today))


def reopen_entry_when_due(new_uow) -> bool:
    """§3 scheduled closure of any market: once ``closed_until`` has come, entry has
    reopened by itself; recorded as a new version of its settings, audited. Safe with
    several instances: the settings are locked and read again first. A market's end
    scheduled for today takes effect too."""
    done = False
    with new_uow() as uow:
        now, today = uow.now(), d.london_date(uow.now())
        markets = uow.store.markets()
        if not any(mk.settings.window_over(today) or mk.end_when_due(today) for mk in markets):
            return False
        uow.store.lock_dps()
        for mk in uow.store.markets():
            if mk.end_when_due(today):
                uow.store.save_market(mk)
                uow.audit("market.ended", "market", mk.dps_id, None, _view(mk, now))
                done = True
            if not mk.settings.window_over(today):
                continue
            before = mk.settings
            after = d.apply_dps_change(before, {"closed_from": None, "closed_until": None})
            version = uow.store.save_dps(after, now, None, mk.dps_id)
            entity = ("dps", "dps") if mk.is_default else ("market", mk.dps_id)
            uow.audit("dps.entry_reopened", *entity, before.to_view(today).model_dump(mode="json"),
                      {**after.to_view(today).model_dump(mode="json"), "version": version,
                       "by": "schedule", "dps_id": mk.dps_id})
            done = True
        uow.commit()
    return done


def expiry_warnings(uow, today) -> list[m.DigestMarketWarning]:
    """§11.1: the 6- and 3-month warnings of a PCR DPS's expiry due today, each once (the
    lead's digest carries them, and a ``market_expiry_warning`` event each)."""
    found = []
    for mk in uow.store.markets():
        for months in mk.due_warnings(today):
            mk.mark_warned(months)
            uow.store.save_market(mk)
            warning = m.DigestMarketWarning(dps_id=mk.dps_id, title=mk.title,
                                            expires_on=mk.expires_on(), months_before=months)
            uow.emit(m.MarketExpiryWarning(**warning.model_dump()))
            found.append(warning)
    return found


def migrate_market(command: m.MarketMigrate, uow, principal: dict | None, *, dps_id: str,
                   lead_authority: str) -> dict:
    """§11.1: a dynamic market from a PCR DPS, with the same categories as parts; each
    admitted establishment of the old one gets a draft application in the new market
    pre-filled from its admitted application (insurance left out: not a condition of
    membership, s.36(2)) and is invited (``market_invitation``). Both run side by side
    until the old one ends."""
    principal = access.require_role(principal, *access.LEAD)
    with uow:
        now = uow.now()
        old = uow.store.market(dps_id, lock=True)
        if old is None:
            raise NotFound(f"no market {dps_id}")
        if old.regime != d.PCR2015 or old.state == "ended":
            raise Conflict("only a running PCR 2015 DPS can be migrated to a dynamic market")
        create = m.MarketCreate(
            regime=d.PA2023, title=command.title, description=command.description,
            parts=[m.PartCreate(number=p.number, category=p.category, title=p.title)
                   for p in old.parts],
            valid_from=command.valid_from, valid_to=command.valid_to,
            fee_percent=command.fee_percent,
        )
        new = _create(uow, create, principal, lead_authority, migrated_from=old.dps_id)
        if command.establish:
            new.establish(now, d.london_date(now))
            uow.store.save_market(new)
            _emit(uow, new)
        invited = _invite_members(uow, old, new, now)
        uow.audit("market.migrated", "market", new.dps_id, None,
                  {"from": old.dps_id, "invited": len(invited)})
        uow.commit()
    return {**_view(new, now), "invited": invited}


def _invite_members(uow, old: d.Market, new: d.Market, now) -> list[dict]:
    configs = uow.store.current_configs(now)
    invited = []
    for category in old.categories():
        ids = uow.store.establishments.current_ids(category)
        ests = uow.store.establishments.get_many(ids, lock=True) if ids else {}
        for est in ests.values():
            ms = est.current_membership(category, old.dps_id)
            if ms is None or ms.state != "admitted":
                continue
            source = uow.store.applications.get(ms.application_id)
            existing = uow.store.applications.for_establishments([est.id])[est.id]
            content = source.content if source is not None else None
            if content is None:
                continue
            content = replace(content, pass_fail={
                c: a for c, a in content.pass_fail.items()
                if c not in d.markets.NOT_MEMBERSHIP_CONDITIONS_PA2023})
            try:
                draft = d.open_application(est, category, content, configs[category], existing,
                                           now, copied_from=source.id, dps_id=new.dps_id)
            except (Conflict, InvalidInput):
                continue  # already applied, or the old answers no longer valid: not invited
            uow.store.applications.add(draft, now)
            uow.audit("application.created", "application", draft.id, None,
                      application_summary(draft))
            uow.emit(m.MarketInvitation(
                dps_id=new.dps_id, from_dps_id=old.dps_id, title=new.title,
                establishment_id=est.id, provider_id=est.provider_id,
                establishment_name=est.name, category=category, application_id=draft.id,
                contacts=[{"name": c.name, "email": c.email, "phone": c.phone,
                           "sms_opt_in": c.sms_opt_in} for c in est.contacts],
            ))
            invited.append({"establishment_id": est.id, "category": category,
                            "application_id": draft.id})
    return invited
