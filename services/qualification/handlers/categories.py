"""The DPS settings (RULES §3) and the versioned category configuration (§2)."""

from __future__ import annotations

from collections.abc import Mapping

from services.common.errors import NotFound
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers import markets
from services.qualification.store.codecs import config_to_row


def get_dps(command: None, uow, principal: dict | None = None) -> dict:
    """GET /dps: the default market (§3, §11.1); see ``markets``."""
    return markets.get_dps(command, uow, principal)


def update_dps(command: m.DpsPatch, uow, principal: dict | None) -> dict:
    """§3: extend, shorten or end the default market's period; open or close entry."""
    return markets.update_dps(command, uow, principal)


def reopen_entry_when_due(new_uow) -> bool:
    """§3 scheduled closures that have ended (``markets.reopen_entry_when_due``)."""
    return markets.reopen_entry_when_due(new_uow)


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
        d.check_frozen_conditions(patch, before, code, uow.store.markets())
        after = d.apply_settings_change(before, patch, authorities)
        uow.store.add_config(after, now, principal)
        uow.audit("category.changed", "category", code, config_to_row(before), config_to_row(after))
        uow.commit()
    return after.to_view().model_dump(mode="json")
