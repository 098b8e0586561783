"""The DPS settings (RULES §3) and the versioned category configuration (§2).
"""

from __future__ import annotations

import time
from datetime import date, datetime

from sqlalchemy import (
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.qualification import domain as d
from services.qualification.store.codecs import (
    config_from_row,
    config_to_row,
    dps_from_row,
    dps_to_row,
)
from services.qualification.store.tables import category_configs, dps_settings

# --- settings and configuration --------------------------------------------------------------

DEFAULT_DPS = d.DpsSettings(date(2025, 4, 1), date(2035, 3, 31), entry_open=True)
"""Version 1 of the DPS settings, used until the lead changes them (RULES §3)."""


def dps(session: Session, dps_id: str = d.FIRST_DPS_ID) -> d.DpsSettings:
    """The settings in force of the market ``dps_id`` (RULES §3, §11.1)."""
    row = session.execute(
        select(dps_settings).where(dps_settings.c.dps_id == dps_id)
        .order_by(dps_settings.c.version.desc()).limit(1)
    ).first()
    if row is None:
        return DEFAULT_DPS
    return dps_from_row(row)


def lock_dps(session: Session) -> None:
    """Serialise changes of the settings: take this before reading what to change."""
    session.execute(text("LOCK TABLE qualification.market_settings IN EXCLUSIVE MODE"))


def save_dps(session: Session, settings: d.DpsSettings, at: datetime, by: dict | None,
             dps_id: str = d.FIRST_DPS_ID) -> int:
    """A new version of a market's settings (call ``lock_dps`` first)."""
    current = session.execute(
        select(func.max(dps_settings.c.version)).where(dps_settings.c.dps_id == dps_id)
    ).scalar_one()
    if current is None:
        current = 0
    _insert_dps(session, current + 1, settings, at, by, dps_id)
    return current + 1


def _insert_dps(
    session: Session, version: int, settings: d.DpsSettings, at: datetime, by: dict | None,
    dps_id: str = d.FIRST_DPS_ID,
) -> None:
    session.execute(
        insert(dps_settings).values(
            dps_id=dps_id,
            version=version,
            **dps_to_row(settings),
            changed_at=at,
            changed_by=by,
        )
    )


def ensure_categories(session: Session, at: datetime) -> None:
    """Seed version 1 of each category from the domain's defaults on first use (§2)."""
    present = set(session.execute(select(category_configs.c.code).distinct()).scalars())
    missing = [c for code, c in d.default_category_configs().items() if code not in present]
    if missing:
        session.execute(
            pg_insert(category_configs)
            .values(
                [
                    {
                        "code": c.code,
                        "version": c.version,
                        "config": config_to_row(c),
                        "created_at": at,
                        "created_by": None,
                    }
                    for c in missing
                ]
            )
            .on_conflict_do_nothing()
        )


_parsed: dict[str, object] = {"stamp": None, "configs": {}, "checked": float("-inf"),
                               "commits": 0}
"""The configurations last read, the versions they were read at and when (monotonic): a
transaction within ``RECHECK_SECONDS`` of the last check reuses them without a query; after
that, one small query of the versions tells whether to read and parse them again (issue 10:
a statement fewer on every call). A change made in this process takes effect at once (its
commit clears the check, and its own transaction reads what it wrote); one made by another
instance within ``RECHECK_SECONDS``, like a revoked API key in the gateway's cache."""

RECHECK_SECONDS = 1.0


def current_configs(session: Session, at: datetime) -> dict[str, d.CategoryConfig]:
    """The configuration in force of every category, by code (seeded if needed)."""
    changing = session.info.get(_CHANGING, False)  # read what this transaction wrote
    checked, commits = time.monotonic(), _parsed["commits"]
    if not changing and checked - _parsed["checked"] < RECHECK_SECONDS:
        return dict(_parsed["configs"])
    stamp = tuple(session.execute(
        select(category_configs.c.code, func.max(category_configs.c.version))
        .group_by(category_configs.c.code).order_by(category_configs.c.code)
    ).all())
    if stamp and stamp == _parsed["stamp"]:
        configs = _parsed["configs"]
    else:
        configs = _read_configs(session, at)
    # never keep versions not committed, nor what was read before a change's commit here
    if not changing and commits == _parsed["commits"]:
        _parsed.update(stamp=stamp, configs=configs, checked=checked)
    return dict(configs)


_CHANGING = "qualification.configs_changing"


def _changed(session: Session) -> None:
    """After the commit of a new version: the next transaction checks the versions."""
    if session.info.pop(_CHANGING, False):
        _parsed.update(checked=float("-inf"), commits=_parsed["commits"] + 1)


def _abandoned(session: Session) -> None:
    session.info.pop(_CHANGING, None)


def _read_configs(session: Session, at: datetime) -> dict[str, d.CategoryConfig]:
    rows = (
        session.execute(
            select(category_configs.c.config)
            .ext(distinct_on(category_configs.c.code))
            .order_by(category_configs.c.code, category_configs.c.version.desc())
        )
        .scalars()
        .all()
    )
    if len(rows) < len(d.CATEGORIES):
        ensure_categories(session, at)
        return _read_configs(session, at)
    configs = {c.code: c for c in map(config_from_row, rows)}
    return {code: configs[code] for code in d.CATEGORIES if code in configs}


def config_version(session: Session, code: str, version: int) -> d.CategoryConfig | None:
    row = session.execute(
        select(category_configs.c.config).where(
            category_configs.c.code == code, category_configs.c.version == version
        )
    ).scalar_one_or_none()
    return None if row is None else config_from_row(row)


def add_config(session: Session, config: d.CategoryConfig, at: datetime, by: dict | None) -> None:
    """A new version; the primary key refuses a concurrent change to the same version."""
    if not session.info.get(_CHANGING):
        session.info[_CHANGING] = True
        event.listen(session, "after_commit", _changed, once=True)
        event.listen(session, "after_rollback", _abandoned, once=True)
    session.execute(
        insert(category_configs).values(
            code=config.code,
            version=config.version,
            config=config_to_row(config),
            created_at=at,
            created_by=by,
        )
    )


def lock_category(session: Session, code: str) -> None:
    """Serialise configuration changes of one category (transaction-scoped)."""
    _advisory_lock(session, f"qualification:category:{code}")


def _advisory_lock(session: Session, key: str) -> None:
    """A transaction-scoped lock on ``key`` (released at commit or rollback)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


