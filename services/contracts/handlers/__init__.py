"""Use cases of the contracts service (cosmicpython ``service_layer/handlers.py`` style).

Plain functions ``handler(command, uow, principal) -> result`` (consumed events:
``(event, uow)``): they check ``access``, call the domain, write audit records (``uow.audit``,
RULES §9) and outbox rows (``uow.emit``), commit, and return a JSON-ready result. They reach
persistence only through ``uow.store`` and import no nameko, so a fake unit of work
unit-tests them. One module per aggregate or use-case group.
"""
