"""The DPS settings (RULES §3) and the versioned category configuration (§2)."""

from __future__ import annotations

from collections.abc import Mapping

from services.common.errors import NotFound
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.store.codecs import config_to_row


def get_dps(command: None, uow, principal: dict | None = None) -> dict:
    with uow:
        return uow.store.dps().to_view(d.london_date(uow.now())).model_dump(mode="json")


def update_dps(command: m.DpsPatch, uow, principal: dict | None) -> dict:
    """§3: extend, shorten or end the period of validity; open or close entry (the lead)."""
    principal = access.require_role(principal, *access.LEAD)
    patch = command.model_dump(exclude_unset=True)
    with uow:
        now, today = uow.now(), d.london_date(uow.now())
        uow.store.lock_dps()
        before = uow.store.dps()
        after = d.apply_dps_change(before, patch, today)
        version = uow.store.save_dps(after, now, principal)
        view = after.to_view(today).model_dump(mode="json")
        uow.audit("dps.changed", "dps", "dps", before.to_view(today).model_dump(mode="json"),
                  {**view, "version": version})
        uow.commit()
    return view


def reopen_entry_when_due(new_uow) -> bool:
    """§3 scheduled closure: once ``closed_until`` has come, entry has reopened by itself
    (``DpsSettings.status``); this records it as a new version of the settings, audited.
    Safe with several instances: the settings are locked and read again first."""
    with new_uow() as uow:
        now, today = uow.now(), d.london_date(uow.now())
        if not uow.store.dps().window_over(today):
            return False
        uow.store.lock_dps()
        before = uow.store.dps()
        if not before.window_over(today):  # another instance did it
            return False
        after = d.apply_dps_change(before, {"closed_from": None, "closed_until": None})
        version = uow.store.save_dps(after, now, None)
        uow.audit("dps.entry_reopened", "dps", "dps", before.to_view(today).model_dump(mode="json"),
                  {**after.to_view(today).model_dump(mode="json"), "version": version,
                   "by": "schedule"})
        uow.commit()
    return True


def list_categories(command: None, uow, principal: dict | None = None) -> dict:
    with uow:
        configs = uow.store.current_configs(uow.now())
        uow.commit()  # the first read seeds version 1
    return {"items": [c.to_view().model_dump(mode="json") for c in configs.values()],
            "next_cursor": None}


def get_category(code: str, uow, principal: dict | None = None, *,
                 version: int | None = None) -> dict:
    """The configuration in force (or one version) of a category (§2)."""
    with uow:
        configs = uow.store.current_configs(uow.now())
        uow.commit()
        if code not in configs:
            raise NotFound(f"no category {code}")
        config = configs[code] if version is None else uow.store.config_version(code, version)
    if config is None:
        raise NotFound(f"{code} has no version {version}")
    return config.to_view().model_dump(mode="json")


def update_category(command: m.CategoryPatch, uow, principal: dict | None, *, code: str,
                    authorities: Mapping[str, str]) -> dict:
    """§2: a settings change makes the next version; applications already submitted keep
    the version they were submitted under. ``authorities``: the partners (§1)."""
    principal = access.require_role(principal, *access.LEAD)
    patch = command.model_dump(exclude_unset=True)
    with uow:
        now = uow.now()
        uow.store.lock_category(code)
        configs = uow.store.current_configs(now)
        if code not in configs:
            raise NotFound(f"no category {code}")
        before = configs[code]
        after = d.apply_settings_change(before, patch, authorities)
        uow.store.add_config(after, now, principal)
        uow.audit("category.changed", "category", code, config_to_row(before), config_to_row(after))
        uow.commit()
    return after.to_view().model_dump(mode="json")
