"""RULES §10 for the qualification service's objects, as pure functions.

The gateway has already refused roles that may never call a route (its coarse gate);
these decide per object, from the gateway's principal:

- the caller: every command needs a principal; a role outside the command's list is
  ``Forbidden`` (403): ``require_role``.
- establishments (§10 "establishments" column): a provider its own organisation's
  (another's is ``NotFound``, 404: admitting it exists would leak); a commissioner
  admitted ones only ("read admitted"), seeing their admitted memberships only; the lead
  all (read/write); the contract manager all (read); the auditor none.
  ``can_read_establishment``, ``readable_establishment``, ``visible_memberships``.
- the export of admitted establishments: the lead and the contract manager.
- applications: a provider its own; the lead all (evaluation, §4.3):
  ``can_read_application``, ``readable_application``.
- suspension (§10 "suspend": the lead only), reinstatement, inspections, re-verification,
  removal, evaluation and settings changes: the lead only.
"""

from __future__ import annotations

from services.common.errors import Forbidden, NotFound
from services.qualification import domain as d

READERS = ("lead", "contract_manager", "commissioner", "provider")
"""Who may read establishments at all (§10); each then sees only what the rules below let."""
EXPORTERS = ("lead", "contract_manager")
APPLICATION_READERS = ("provider", "lead")
UPLIFTERS = ("contract_manager", "lead")
LEAD = ("lead",)
PROVIDER = ("provider",)
ELIGIBILITY_READERS = ("commissioner", "lead")
ESTABLISHMENT_EDITORS = ("provider", "lead")


def require_role(principal: dict | None, *roles: str) -> dict:
    """§10: the roles that may call this at all; no principal or another role is 403."""
    if not principal:
        raise Forbidden("this call needs a principal")
    if principal.get("role") not in roles:
        raise Forbidden(f"the {principal.get('role')} role may not do this")
    return principal


def can_read_establishment(principal: dict, est: d.Establishment) -> bool:
    """§10 "establishments": lead and contract manager all, provider own, commissioner
    admitted ones (an admitted membership in some category), auditor none."""
    role = principal.get("role")
    if role in ("lead", "contract_manager"):
        return True
    if role == "provider":
        return est.provider_id == principal.get("provider_id")
    if role == "commissioner":
        return any(ms.state == "admitted" for ms in est.memberships)
    return False


def readable_establishment(principal: dict, est: d.Establishment | None) -> d.Establishment:
    """The establishment if the principal may see it, else NotFound (404: another
    provider's is hidden, §10)."""
    if est is None or not can_read_establishment(principal, est):
        raise NotFound("no such establishment")
    return est


def sees_admitted_memberships_only(principal: dict) -> bool:
    """§10 "read admitted": a commissioner sees only the admitted memberships."""
    return principal.get("role") == "commissioner"


def establishments_scope(principal: dict) -> dict:
    """The list filters §10 imposes on ``GET /establishments``."""
    role = principal.get("role")
    return {
        "provider_id": principal.get("provider_id") if role == "provider" else None,
        "admitted_only": role == "commissioner",
    }


def can_list_status(principal: dict, status: str | None) -> bool:
    """A commissioner asking for non-admitted establishments gets an empty list."""
    return not (principal.get("role") == "commissioner" and status not in (None, "admitted"))


def can_read_application(principal: dict, app: d.Application) -> bool:
    """§10: a provider its own organisation's applications; the lead all."""
    if principal.get("role") == "provider":
        return app.provider_id == principal.get("provider_id")
    return True


def readable_application(principal: dict, app: d.Application | None) -> d.Application:
    if app is None or not can_read_application(principal, app):
        raise NotFound("no such application")
    return app


def applications_scope(principal: dict) -> str | None:
    """The provider whose applications a list is limited to (None: all, the lead)."""
    return principal.get("provider_id") if principal["role"] == "provider" else None


def owns_establishment(principal: dict, est: d.Establishment | None) -> bool:
    """A provider copies an application only to its own establishments (§4)."""
    return est is not None and est.provider_id == principal.get("provider_id")


def referral_authority(principal: dict) -> str:
    """The authority whose cap applies to a caller's eligibility list (§5)."""
    return principal.get("authority") or "WSCC"
