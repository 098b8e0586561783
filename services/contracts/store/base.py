"""What every part of the contracts repository shares: the session it is bound to, the
insert-once and upsert statements, the advisory lock, and two query helpers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common.crypto import ERASED, KeyVault


def where_equal(query: Any, table: Table, **values: Any) -> Any:
    """``query`` narrowed to the rows whose columns equal the given values; a ``None`` value
    is no filter."""
    for name, value in values.items():
        if value is not None:
            query = query.where(table.c[name] == value)
    return query


def utc_midnight(day: date, plus_days: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=plus_days), datetime.min.time(), UTC)


class Rows:
    """Queries bound to one unit of work's session."""

    def __init__(self, session: Session):
        self.session = session
        self.vault = KeyVault(session)

    def child_reference(self, row: Any) -> str:
        """A placement row's child reference, opened under its data key (§13)."""
        opened = self.vault.open(row.child_key_id, row.child_reference)
        return opened["child_reference"] if isinstance(opened, dict) else ERASED

    def sealed_child_reference(self, p: Any) -> str | None:
        """The child reference sealed under the placement's data key; None if erased."""
        if p.child_key_id is None or self.vault.get(p.child_key_id) is None:
            return None
        return self.vault.seal(p.child_key_id, {"child_reference": p.child_reference})

    def lock(self, key: str) -> None:
        """A transaction-scoped advisory lock serialising work on ``key`` across instances."""
        self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})

    def _insert_new(self, table: Table, **values: Any) -> bool:
        """Insert a row unless its key is taken; ``False`` (and nothing written) when it is."""
        inserted = self.session.execute(
            pg_insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key)
        ).first()
        return inserted is not None

    def _upsert(
        self, table: Table, values: dict[str, Any], update: Iterable[str] | None = None
    ) -> None:
        """Insert a row or, when its key is taken, overwrite the columns named in ``update``
        (default: every column given that is not part of the key)."""
        key = table.primary_key.columns
        names = [n for n in values if n not in key] if update is None else update
        self.session.execute(
            pg_insert(table)
            .values(**values)
            .on_conflict_do_update(
                index_elements=list(key), set_={name: values[name] for name in names}
            )
        )
