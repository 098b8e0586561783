"""The qualification service: who is on the DPS, on what terms.

It owns (RULES):
- the DPS itself: its period of validity and whether entry is open (§3), and open
  registration of provider organisations;
- the categories and their versioned configuration: criteria, weights, cost heads,
  insurance minimums, caps, tender periods (§2, §4.4);
- establishments, their contacts (§8) and inspection judgements (§4.1);
- applications, their evaluation deadlines in working days and decisions (§4, §4.2, §4.3);
- memberships: admission, suspension, resubmission, reinstatement, evidence renewal and
  expiry, yearly re-verification, removal (§4.5), competency moves from performance
  reviews (§7.4) and uplifts of qualified core costs (§7.2);
- eligibility of establishments for a referral and their standings at the deadline (§5,
  §6.2), answered to the referral service.

Rooms (DESIGN "Inside a service"): ``service.py`` (nameko entrypoints only), ``handlers/``
(use cases), ``domain/`` (pure rules and state machines), ``access.py`` (§10),
``store/`` (tables, codecs, queries), ``config.py`` (settings), ``messages.py`` (the
published language, the only module other services import).
"""
