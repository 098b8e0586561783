"""RULES §10 for the referral service's objects: who may see and change a referral, its
bids, clarifications, feedback and direct placements. Pure functions, used by the handlers
and by the ``Referral`` aggregate's methods (which take the caller's principal).

The matrix rows that concern this service:

| | own authority's | other authorities' | bids before deadline | after deadline |
|---|---|---|---|---|
| commissioner | read/write | none | count only | own referrals |
| lead | as commissioner of WSCC | none | count only | WSCC's |
| provider | anonymised, where invited | same | own bid only | own bid, feedback |
| contract_manager | none | none | none | none |
| auditor | none | none | none | none |

Decisions (each one is tested, ``tests/unit/referral/test_access_matrix.py``):

- The **owner** is a commissioner of the referral's authority, or the lead acting for WSCC.
- A principal who may know the referral (the owner, an invited provider) but acts outside
  its rights gets ``Forbidden`` (403): e.g. an invited provider bidding for an establishment
  that was not invited, or the owner bidding. Anyone else gets ``NotFound`` (404: admitting
  that the referral exists would leak), except roles that never see referrals (contract
  manager, auditor), which get ``Forbidden``.
- The **auditor** reads a referral's stored evaluation (``GET …/evaluation``, issue 15) and
  nothing else of it.

Principals are dicts ``{role, authority?, provider_id?}`` as the gateway passes them; a
referral is anything with ``authority`` and ``invitations`` (``domain.Referral``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from services.common.errors import DomainError, Forbidden, NotFound

if TYPE_CHECKING:  # the domain imports this module, not the other way round
    from services.referral.domain import Bid, Invitation, Referral

COMMISSIONER, LEAD, PROVIDER = "commissioner", "lead", "provider"
CONTRACT_MANAGER, AUDITOR = "contract_manager", "auditor"
LEAD_AUTHORITY = "WSCC"  # §1, §10: the lead acts as a commissioner of WSCC
KNOWING_ROLES = (COMMISSIONER, LEAD, PROVIDER)  # roles for which a 404 hides existence


def acting_authority(principal: Mapping) -> str | None:
    """The authority a principal commissions for (§10: the lead for WSCC), or None."""
    role = principal.get("role")
    if role == COMMISSIONER:
        return principal.get("authority")
    if role == LEAD:
        return principal.get("authority") or LEAD_AUTHORITY
    return None


def is_owner(principal: Mapping, referral: Referral) -> bool:
    """§10 "own authority's referrals: read/write" (commissioner; lead as WSCC)."""
    return acting_authority(principal) == referral.authority


def invitations_of(principal: Mapping, referral: Referral) -> list[Invitation]:
    """§10 "provider: only where invited": the provider's invitations on the referral."""
    if principal.get("role") != PROVIDER:
        return []
    return [
        i for i in referral.invitations.values() if i.provider_id == principal.get("provider_id")
    ]


def is_awarded_provider(principal: Mapping, referral: Referral) -> bool:
    """§13: the awarded provider's users read the child's personal data from the award on."""
    bid = referral.bids.get(referral.awarded_bid_id) if referral.awarded_bid_id else None
    return (
        bid is not None
        and principal.get("role") == PROVIDER
        and principal.get("provider_id") == bid.provider_id
    )


def require_child_data_reader(principal: Mapping, referral: Referral) -> None:
    """§13: the owning authority or the awarded provider; a losing bidder gets 404."""
    if not (is_owner(principal, referral) or is_awarded_provider(principal, referral)):
        raise NotFound("referral not found") if principal.get("role") in KNOWING_ROLES else (
            Forbidden("only the owning authority and the awarded provider read child data")
        )


def is_invited(principal: Mapping, referral: Referral) -> bool:
    return bool(invitations_of(principal, referral))


def refusal(principal: Mapping, referral: Referral, action: str) -> DomainError:
    """§10: 403 to whoever may know this referral, 404 where its existence would leak."""
    knows = is_owner(principal, referral) or is_invited(principal, referral)
    if not knows and principal.get("role") in KNOWING_ROLES:
        return NotFound("referral not found")
    return Forbidden(f"you may not {action}")


def require_owner(principal: Mapping, referral: Referral, action: str) -> None:
    """§10 write on own authority's referrals (publish, close, answer, evaluate, award…)."""
    if not is_owner(principal, referral):
        raise refusal(principal, referral, action)


def require_evaluation_reader(principal: Mapping, referral: Referral) -> None:
    """Issue 15, §9: an evaluation's inputs and scores are read by the owner and by an
    auditor (of any authority: the auditor reads every service's audit), so that an award
    can be replayed; providers read their own bid's in their feedback."""
    if principal.get("role") == AUDITOR or is_owner(principal, referral):
        return
    raise refusal(principal, referral, "read this evaluation")


def require_invited(
    principal: Mapping, referral: Referral, establishment_id: str, action: str
) -> Invitation:
    """§10 provider "only where invited": the invitation of one of its establishments."""
    for invitation in invitations_of(principal, referral):
        if invitation.establishment_id == establishment_id:
            return invitation
    raise refusal(principal, referral, f"{action} for establishment {establishment_id}")


def require_reader(principal: Mapping, referral: Referral, action: str) -> list[Invitation]:
    """§10 read: the owner (returns ``[]``) or an invited provider (returns its own
    invitations); anyone else is refused (404 or 403 as ``refusal`` decides)."""
    if is_owner(principal, referral):
        return []
    own = invitations_of(principal, referral)
    if not own:
        raise refusal(principal, referral, action)
    return own


def require_own_bid(principal: Mapping, referral: Referral, bid_id: str) -> Bid:
    """§10 "own bid only": a provider changes only its own bids; an invited provider asking
    for another's bid gets 404 (its existence is not theirs to know)."""
    bid = referral.bids.get(bid_id)
    if (
        bid is not None
        and principal.get("role") == PROVIDER
        and bid.provider_id == principal.get("provider_id")
    ):
        return bid
    if is_invited(principal, referral):
        raise NotFound("bid not found")
    raise refusal(principal, referral, "change bids")


def require_commissioner(principal: Mapping, what: str) -> str:
    """§5, §10: only a commissioner (or the lead, as WSCC) creates referrals or records
    direct placements; returns the authority it acts for."""
    authority = acting_authority(principal)
    if authority is None:
        raise Forbidden(f"only a commissioner {what}")
    return authority


def referral_list_scope(principal: Mapping) -> tuple[str, Any]:
    """§10 ``GET /referrals``: ``("authority", code)`` for the owner's authority's list,
    ``("provider", provider_id)`` for an invited provider's; other roles read none (403)."""
    role = principal.get("role")
    if role in (COMMISSIONER, LEAD):
        return "authority", principal.get("authority") or LEAD_AUTHORITY
    if role == PROVIDER:
        return "provider", principal["provider_id"]
    raise Forbidden(f"the {role} role does not read referrals")
