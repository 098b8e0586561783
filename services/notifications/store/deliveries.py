"""The delivery queries of the notifications service (RULES §8): recording, claiming
with leases, the shared rate counter, listing. A mixin of ``repository.Store``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.notifications.domain import WAITING, Delivery, Envelope, RateWindow
from services.notifications.messages import DeliveryStatus, Gateway
from services.notifications.rendering import Rendered
from services.notifications.store import codecs
from services.notifications.store.tables import deliveries, rate_windows


class DeliveryQueries:
    session: object

    def insert_deliveries(self, new: list[tuple[Delivery, Envelope]]) -> int:
        """Insert new deliveries; ones whose (event, recipient, channel, type) exists are
        skipped (RULES §8 idempotency). Returns how many were inserted."""
        rows = [{**codecs.delivery_to_row(d), **codecs.envelope_to_row(e)} for d, e in new]
        inserted = 0
        for start in range(0, len(rows), 500):
            stmt = (
                pg_insert(deliveries)
                .values(rows[start : start + 500])
                .on_conflict_do_nothing(constraint="uq_deliveries_event_recipient_channel_type")
                .returning(deliveries.c.id)
            )
            inserted += len(self.session.execute(stmt).all())
        return inserted

    def save_delivery(self, d: Delivery) -> None:
        row = codecs.delivery_to_row(d)
        self.session.execute(
            update(deliveries)
            .where(deliveries.c.id == d.id)
            .values({k: row[k] for k in codecs.MUTABLE})
        )

    def lock_delivery(self, delivery_id: str) -> Delivery | None:
        row = self._first(
            select(deliveries).where(deliveries.c.id == delivery_id).with_for_update()
        )
        return codecs.delivery_from_row(row) if row else None

    def extend_leases(self, attempts: dict[str, int], until: datetime) -> int:
        """Renew the leases of these attempts (delivery id → attempt number) that are
        still ``sending`` in that attempt; returns how many were renewed."""
        if not attempts:
            return 0
        return self.session.execute(
            update(deliveries)
            .where(
                tuple_(deliveries.c.id, deliveries.c.attempts).in_(list(attempts.items())),
                deliveries.c.status == str(DeliveryStatus.SENDING),
            )
            .values(next_attempt_at=until)
        ).rowcount

    def lock_deliveries(self, ids: list[str]) -> dict[str, Delivery]:
        """Lock these deliveries (in id order, so that lockers never deadlock)."""
        if not ids:
            return {}
        rows = self.session.execute(
            select(deliveries)
            .where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.id)
            .with_for_update()
        )
        return {r.id: codecs.delivery_from_row(r._mapping) for r in rows}

    def claim_due(
        self, gateway: Gateway, now: datetime, limit: int
    ) -> list[tuple[Delivery, Rendered]]:
        """Due deliveries of one gateway with their messages, oldest first, locked and
        skipped by other instances (``FOR UPDATE SKIP LOCKED``).

        Due: waiting (pending or after a temporary failure) with ``next_attempt_at``
        reached, or ``sending`` past its lease (an instance died mid-send).
        """
        if limit <= 0:
            return []
        statuses = [str(s) for s in (*WAITING, DeliveryStatus.SENDING)]
        q = (
            select(deliveries)
            .where(
                deliveries.c.gateway == str(gateway),
                deliveries.c.status.in_(statuses),
                deliveries.c.next_attempt_at <= now,
            )
            .order_by(deliveries.c.next_attempt_at, deliveries.c.created_at, deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            (codecs.delivery_from_row(r._mapping), codecs.message_from_row(r._mapping))
            for r in self.session.execute(q)
        ]

    def lock_rate_window(self, gateway: Gateway) -> RateWindow | None:
        """The shared counter of ``gateway``, locked until the end of the transaction."""
        self.session.execute(
            pg_insert(rate_windows)
            .values(gateway=str(gateway), window_start=None, used=0)
            .on_conflict_do_nothing()
        )
        row = self.session.execute(
            select(rate_windows).where(rate_windows.c.gateway == str(gateway)).with_for_update()
        ).one()
        return codecs.rate_window_from_row(row._mapping)

    def save_rate_window(self, gateway: Gateway, window: RateWindow) -> None:
        self.session.execute(
            update(rate_windows)
            .where(rate_windows.c.gateway == str(gateway))
            .values(codecs.rate_window_to_row(window))
        )

    def list_deliveries(
        self,
        *,
        provider_id: str | None = None,
        authority: str | None = None,
        status: str | None = None,
        message_type: str | None = None,
        referral_id: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[dict]:
        """Newest first, ``limit`` rows after the cursor key ``(created_at, id)``."""
        q = select(deliveries)
        if provider_id is not None:
            q = q.where(deliveries.c.provider_id == provider_id)
        if authority is not None:
            q = q.where(deliveries.c.authority == authority)
        if status:
            q = q.where(deliveries.c.status == status)
        if message_type:
            q = q.where(deliveries.c.message_type == message_type)
        if referral_id:
            q = q.where(deliveries.c.referral_id == referral_id)
        if after is not None:
            q = q.where(tuple_(deliveries.c.created_at, deliveries.c.id) < tuple_(*after))
        q = q.order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc()).limit(limit)
        return [dict(r._mapping) for r in self.session.execute(q)]

    def count_deliveries(self, **where) -> int:
        q = select(func.count()).select_from(deliveries)
        conditions = [deliveries.c[k] == v for k, v in where.items()]
        if conditions:
            q = q.where(and_(*conditions))
        return self.session.execute(q).scalar_one()
