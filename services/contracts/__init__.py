"""The contracts service (RULES §7, §9, §10): it owns placements (§7.1) and their variations
and uplifts (§7.2), block contracts (§7.3), outcome reviews and performance reports (§7.4),
the quarterly award publication (§7.5), benchmarks (§7.6) and cost shares (§7.7).

Rooms: ``service.py`` (nameko entrypoints), ``handlers/`` (use cases), ``domain/`` (pure
rules), ``access.py`` (§10), ``store/`` (tables, codecs, queries), ``config.py`` (settings),
``messages.py`` (the published language: the only module others import).
"""
