"""RULES §10 for the contracts service's objects, as pure functions named after the matrix.

- **placements**: a commissioner (and the lead, as commissioner of WSCC, its authority) reads
  its own authority's, a provider its own *without child details*, the contract manager all;
  any other placement is ``NotFound`` (404: admitting it exists would leak). Acting on one
  (start, end, vary, review) is for its owning authority only: a provider or the contract
  manager who may read it gets ``Forbidden`` (403).
- **block contracts** (§7.3): read by the owning authority and the contract manager (others
  404); created and filled by an authority's commissioner (or the lead) only.
- **benchmarks** (§7.6): commissioners (own authority named, others anonymous), the lead and
  the contract manager (all named). **Cost shares** (§7.7) and **performance** (§7.4): the
  contract manager and the lead. **Uplifts** (§7.2): the contract manager.
- **publication** (§7.5): any principal (the gateway serves it without a key).
- **overdue reviews** (§7.4): an authority's own, or all for the contract manager.

The auditor reads none of these (403 where the object is not named, 404 where it is).
"""

from __future__ import annotations

from typing import Any

from services.common.errors import Forbidden, NotFound
from services.contracts.domain import BlockContract, Placement

OWNER_ROLES = ("commissioner", "lead")
"""Roles acting for one authority (the lead acts as commissioner of the lead authority)."""


def _role(principal: dict) -> str | None:
    return principal.get("role")


def may_read(obj: Placement | BlockContract, principal: dict) -> bool:
    """§10 "placements" column: own authority, own provider (placements only), or all."""
    role = _role(principal)
    if role == "contract_manager":
        return True
    if role in OWNER_ROLES:
        return bool(principal.get("authority")) and obj.authority == principal["authority"]
    if role == "provider" and isinstance(obj, Placement):
        return bool(principal.get("provider_id")) and obj.provider_id == principal["provider_id"]
    return False


def is_owner(obj: Placement | BlockContract, principal: dict) -> bool:
    """The owning authority's commissioner (or the lead for its own authority)."""
    return _role(principal) in OWNER_ROLES and obj.authority == principal.get("authority")


def sees_child_details(principal: dict) -> bool:
    """§10: providers see their placements without child details (and the contract manager,
    who reads all, does not need them either)."""
    return _role(principal) in OWNER_ROLES


# --- placements -------------------------------------------------------------------------------


def can_read_placement(
    principal: dict, placement: Placement | None, placement_id: str
) -> Placement:
    """The placement if the principal may read it, else ``NotFound`` (§10)."""
    if placement is None or not may_read(placement, principal):
        raise NotFound(f"no placement {placement_id}")
    return placement


def can_manage_placement(
    principal: dict, placement: Placement | None, placement_id: str
) -> Placement:
    """Start, end, vary or review: the owning authority only (404 if unreadable, else 403)."""
    p = can_read_placement(principal, placement, placement_id)
    if not is_owner(p, principal):
        raise Forbidden("only the owning authority's commissioner manages a placement")
    return p


def placement_scope(principal: dict) -> dict[str, Any]:
    """Which placements a listing shows (§10): own authority, own provider, or all."""
    role = _role(principal)
    if role in OWNER_ROLES:
        return {"authority": principal.get("authority") or "-"}
    if role == "provider":
        return {"provider_id": principal.get("provider_id") or "-"}
    if role != "contract_manager":
        raise Forbidden(f"the {role} role does not read placements")
    return {}


def review_scope(principal: dict) -> str | None:
    """Whose overdue reviews a principal tracks (§7.4): its authority, or all (``None``)."""
    role = _role(principal)
    if role in OWNER_ROLES:
        return principal.get("authority") or "-"
    if role == "contract_manager":
        return None
    raise Forbidden(f"the {role} role does not track reviews")


# --- block contracts (§7.3) ------------------------------------------------------------------


def can_create_block(principal: dict) -> str:
    """An authority's commissioner (or the lead) makes block contracts; returns its authority."""
    if _role(principal) not in OWNER_ROLES or not principal.get("authority"):
        raise Forbidden("block contracts are made by an authority's commissioner")
    return principal["authority"]


def can_read_block(principal: dict, block: BlockContract | None, block_id: str) -> BlockContract:
    if block is None or not may_read(block, principal):
        raise NotFound(f"no block contract {block_id}")
    return block


def can_place_in_block(
    principal: dict, block: BlockContract | None, block_id: str
) -> BlockContract:
    b = can_read_block(principal, block, block_id)
    if not is_owner(b, principal):
        raise Forbidden("only the owning authority places children in its block")
    return b


# --- uplifts, benchmarks, cost shares, performance -----------------------------------------


def can_set_uplift(principal: dict) -> None:
    if _role(principal) != "contract_manager":
        raise Forbidden("only the contract manager sets uplifts")


def can_read_uplifts(principal: dict) -> None:
    """§7.2: the uplifts set are read by the contract manager, who sets them, and the lead."""
    if _role(principal) not in ("contract_manager", "lead"):
        raise Forbidden("uplifts are read by the contract manager and the lead")


def can_read_benchmarks(principal: dict) -> str:
    role = _role(principal)
    if role not in ("commissioner", "lead", "contract_manager"):
        raise Forbidden(f"the {role} role does not read benchmarks")
    return role


def can_read_cost_shares(principal: dict) -> None:
    if _role(principal) not in ("contract_manager", "lead"):
        raise Forbidden("cost shares are for the contract manager and the lead")


def can_read_performance(principal: dict) -> None:
    if _role(principal) not in ("contract_manager", "lead"):
        raise Forbidden("performance is read by the contract manager and the lead")


def can_read_publication(principal: dict) -> None:
    """§7.5: award notices are public; every principal reads them."""
