"""Provider organisations: open registration (RULES §3: no limit, no charge)."""

from __future__ import annotations

from services.qualification import domain as d
from services.qualification import messages as m


def create_provider(command: m.ProviderCreate, uow, principal: dict | None = None) -> dict:
    """Open registration of a provider organisation (§3)."""
    with uow:
        row = {"id": d.new_id(), **command.model_dump(), "created_at": uow.now()}
        uow.store.add_provider(row)
        view = m.ProviderView.model_validate(row)
        uow.audit("provider.registered", "provider", row["id"], None, view.model_dump(mode="json"))
        uow.emit(m.ProviderRegistered(provider=view))
        uow.commit()
    return view.model_dump(mode="json")


def get_provider(provider_id: str, uow, principal: dict | None = None) -> dict | None:
    with uow:
        row = uow.store.get_provider(provider_id)
    return m.ProviderView.model_validate(row).model_dump(mode="json") if row else None
