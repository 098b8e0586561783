"""Plumbing shared by every service, and no domain rules (DESIGN "Layout"): settings and
the ``Config`` provider (``config``), the database dependency, ``@consumes``, timers from
settings and RPC helpers (``runtime``), the unit of work with its transactional outbox and
hash-chained, sealed audit trail (``uow``, ``audit``, RULES §9), the outbox relay
(``relay``), ``StateMachine`` (``states``), strict message field types (``types``), exact
money (``money``), the injectable clock (``clock``), logging and the domain errors."""
