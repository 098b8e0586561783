"""qualification service: thin nameko entrypoints (DESIGN: inside a service)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select

from services.common.runtime import AuditRpc, Database, RequestContext, rpc
from services.qualification import store
from services.qualification.messages import ProviderCreate, ProviderRegistered, ProviderView


class QualificationService(AuditRpc):
    name = "qualification"

    ctx = RequestContext()
    db = Database(store.metadata)

    @rpc
    def ping(self) -> str:
        return "ok"

    @rpc
    def create_provider(self, body: dict) -> dict:
        """Open registration of a provider organisation (RULES §3: no limit, no charge)."""
        data = ProviderCreate.model_validate(body)
        with self.db.uow() as uow:
            row = {"id": str(uuid.uuid4()), **data.model_dump(), "created_at": uow.now()}
            uow.session.execute(insert(store.providers).values(**row))
            view = ProviderView.model_validate(row)
            uow.audit("provider.registered", "provider", row["id"], None,
                      view.model_dump(mode="json"))
            uow.emit(ProviderRegistered(provider=view))
            uow.commit()
        return view.model_dump(mode="json")

    @rpc
    def get_provider(self, provider_id: str) -> dict | None:
        with self.db.uow() as uow:
            row = uow.session.execute(
                select(store.providers).where(store.providers.c.id == provider_id)
            ).first()
        return ProviderView.model_validate(dict(row._mapping)).model_dump(mode="json") \
            if row else None
