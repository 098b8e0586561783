"""Route modules, one per area. Each exposes ``bp`` (an ``APIBlueprint``)."""

from importlib import import_module

AREAS = ("system", "keys", "audit", "qualification", "referrals", "contracts",
         "notifications")


def register_all(app) -> None:
    for area in AREAS:
        try:
            module = import_module(f"gateway.routes.{area}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gateway.routes.{area}":
                raise
            continue  # area not built yet
        if hasattr(module, "register"):
            module.register(app)
        else:
            app.register_api(module.bp)
