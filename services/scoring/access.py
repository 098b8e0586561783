"""RULES §10 for scoring: who may have bids scored.

Scoring holds no objects of its own, so §10's only question here is who may run a scoring:
the what-if preview (``POST /scoring/preview``) and a referral's evaluation both call
``scoring_<category>.score``. §10 gives referrals and their bids to the commissioner (its own
authority's) and the lead (as commissioner of WSCC); a what-if touches no stored referral, so
authority and provider do not matter. A provider, contract manager or auditor is a known
principal acting outside its rights: ``Forbidden`` (403), as the gateway's role gate
(``gateway/routes/referrals.py`` ``OWNER``) answers today. A call with no principal is
service-to-service (the referral service evaluating on a commissioner's behalf carries the
commissioner's principal; a call without one comes from inside the platform) and is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.common.errors import Forbidden

SCORING_ROLES = ("commissioner", "lead")  # §10: the lead acts as a commissioner of WSCC


def can_preview_scoring(principal: Mapping | None) -> bool:
    """§10: may ``principal`` have a set of bids scored (the what-if preview)?"""
    return principal is None or principal.get("role") in SCORING_ROLES


def check_preview_scoring(principal: Mapping | None) -> None:
    """Raise ``Forbidden`` (403) unless ``can_preview_scoring``."""
    if not can_preview_scoring(principal):
        role = principal.get("role") if principal else None
        raise Forbidden(f"the {role} role may not do this")
