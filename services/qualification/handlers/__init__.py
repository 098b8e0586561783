"""Use cases of the qualification service (cosmicpython ``service_layer/handlers.py``).

Plain functions ``handler(command, uow, principal) -> result``, one module per aggregate or
use-case group; consumed events are ``handler(event, uow)``. Each checks ``access`` (RULES
§10), calls the domain, writes the audit records (§9) and outbox rows (DESIGN rule 3) in
the same unit of work and commits. They reach persistence only through ``uow.store``
(``store.repository.Store``; a fake in tests) and import no nameko.

``providers`` (§3 registration), ``categories`` (§2, §3), ``establishments`` (§4, §4.1,
§8), ``applications`` (§4, §4.3), ``memberships`` (§4.5), ``eligibility`` (§5, §6.2),
``uplifts`` (§7.2), ``reviews`` (§4.5, §7.4) and ``evidence`` (the §4.5 timer).
"""
