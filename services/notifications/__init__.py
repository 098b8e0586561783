"""The notifications service (RULES §8): it owns contacts' channels (its copy of
providers' and establishments' contacts, told by qualification's events), the message
templates (``templates/``, ``rendering``), the deliveries with their state, retries and
rate limit, and GOV.UK Notify's delivery receipts. It sends by email through an SMTP
relay and by email or SMS through GOV.UK Notify (``channels/``), and lets each owner list
its own deliveries (RULES §10, ``access``).

Rooms: ``service.py`` (nameko entrypoints), ``handlers/`` (use cases), ``domain/`` (pure
rules), ``access.py`` (§10), ``store/`` (tables, codecs, queries), ``config.py``
(``NotificationsConfig``), ``messages.py`` (the published language).
"""
