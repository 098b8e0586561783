"""The scoring service (RULES §6): stateless scoring of a referral's mini-competition.

It owns the scoring rules and nothing stored: the weights and their rescale (§6.1),
compliance (§6.2), the exact sub-scores, ranking and tie-breaks (§6.3) and the parent-choice
shortlist (§6.4), with the cohort-discounted weekly price (§4.4). It has no tables of its own
(only the common ones in schema ``scoring``), writes no audit and emits no events. Only the
commissioner and the lead may have bids scored (§10, ``access.py``).

Rooms: ``service.py`` (nameko entrypoints, one class per category), ``handlers/`` (request →
rules → result), ``domain/`` (the pure rules), ``access.py`` (§10), ``config.py``
(``SCORING_CATEGORIES``), ``run.py`` (starts a process hosting the chosen categories),
``store.py`` (the common tables), ``messages.py`` (the published language).
"""
