"""Provider organisations: open registration (RULES §3: no limit, no charge)."""

from __future__ import annotations

from services.common.errors import NotFound
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m


def create_provider(command: m.ProviderCreate, uow, principal: dict | None = None) -> dict:
    """Open registration of a provider organisation (§3)."""
    with uow:
        row = {"id": d.new_id(), **command.model_dump(), "created_at": uow.now()}
        uow.store.add_provider(row)
        view = m.ProviderView.model_validate(row)
        uow.audit("provider.registered", "provider", row["id"], None, view.model_dump(mode="json"))
        uow.emit(m.ProviderRegistered(provider=view, ppon=view.ppon,
                                      companies_house_number=view.companies_house_number))
        uow.commit()
    return view.model_dump(mode="json")


def get_provider(provider_id: str, uow, principal: dict | None = None) -> dict | None:
    with uow:
        row = uow.store.get_provider(provider_id)
    return m.ProviderView.model_validate(row).model_dump(mode="json") if row else None


def update_provider(command: m.ProviderPatch, uow, principal: dict | None, *,
                    provider_id: str) -> dict:
    """§11.2: the organisation's PPON (scheme GB-PPON) and Companies House number, by the
    provider itself or the lead; audited."""
    principal = access.require_role(principal, "provider", "lead")
    if principal.get("role") == "provider" and principal.get("provider_id") != provider_id:
        raise NotFound(f"no provider {provider_id}")
    patch = command.model_dump(exclude_unset=True)
    with uow:
        row = uow.store.get_provider(provider_id)
        if row is None:
            raise NotFound(f"no provider {provider_id}")
        before = m.ProviderView.model_validate(row).model_dump(mode="json")
        uow.store.update_provider(provider_id, patch)
        after = m.ProviderView.model_validate({**row, **patch}).model_dump(mode="json")
        uow.audit("provider.changed", "provider", provider_id, before, after)
        uow.commit()
    return after
