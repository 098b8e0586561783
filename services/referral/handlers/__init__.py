"""Use cases of the referral service (RULES §5, §6.4, §9, §10): plain functions
``handler(…, uow, principal, peers) -> result`` in the style of cosmicpython's
``service_layer/handlers.py``; consumed events are ``handler(event, uow)``.

Each one loads the ``Referral`` aggregate through ``uow.store`` (its row locked
``FOR UPDATE`` when it writes), checks ``access`` (§10) where the domain does not, calls the
domain, records an audit record (§9, never child data nor sealed bid content) and the
domain's events in the outbox, and commits. Calls to qualification and scoring go through
``peers`` (``services.referral.peers.Peers``) *before* anything is written, inside the unit
of work that holds the row lock, so a service that does not answer (503) rolls back a
transaction that wrote nothing. Handlers import no nameko: ``tests/unit/referral`` runs
them with ``tests.support.fake_uow.FakeUnitOfWork`` and ``tests/support/referral_fakes.py``.

Modules: ``referrals`` (create, read, list, publish, widen, close, the deadline timer,
cancel), ``bids``, ``clarifications`` (questions and declines), ``evaluation`` (outcome
scores, evaluate, parent choice, award, feedback), ``direct_placements``, ``membership``
(qualification's suspension events, §4.5).
"""
