"""Route modules, one per area. Each exposes ``bp`` (an ``APIBlueprint``) or ``register``."""

from importlib import import_module

AREAS = ("system", "keys", "audit", "qualification", "markets", "referrals", "contracts",
         "notifications", "personal_data", "documents")


def register_all(app) -> None:
    for area in AREAS:
        module = import_module(f"gateway.routes.{area}")
        if hasattr(module, "register"):
            module.register(app)
        else:
            app.register_api(module.bp)
