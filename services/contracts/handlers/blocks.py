"""Block contracts: reserve places, read occupancy and voids, place a child (RULES §7.3)."""

from __future__ import annotations

import uuid

from services.common.errors import Conflict, InvalidInput
from services.contracts import access, domain
from services.contracts.handlers.common import create_placement, placement_view, today
from services.contracts.messages import (
    BlockContractCreate,
    BlockPlaceCreate,
    BlockQuery,
    ReferralPlacedInBlock,
)


def _admitted_member(uow, data: BlockContractCreate) -> dict:
    """The establishment's membership the block is made under: admitted, in the category
    named (or the only one)."""
    members = [
        m for m in uow.store.memberships_of(data.establishment_id) if m["status"] == "admitted"
    ]
    if not members:
        raise InvalidInput.at(["establishment_id"], "not an establishment admitted to the DPS")
    if data.category is not None:
        members = [m for m in members if m["category"] == data.category]
        if not members:
            raise InvalidInput.at(["category"], "the establishment is not admitted in it")
    elif len(members) > 1:
        raise InvalidInput.at(
            ["category"],
            "the establishment is admitted in several categories; name one "
            f"({', '.join(m['category'] for m in members)})",
        )
    return members[0]


def create_block_contract(data: BlockContractCreate, uow, principal: dict) -> dict:
    """An authority reserves places at an establishment admitted to the DPS (§7.3)."""
    authority = access.can_create_block(principal)
    m = _admitted_member(uow, data)
    block = domain.BlockContract(
        block_id=str(uuid.uuid4()),
        authority=authority,
        provider_id=m["provider_id"],
        provider_name=uow.store.provider_name(m["provider_id"]),
        establishment_id=data.establishment_id,
        establishment_name=m["establishment_name"],
        category=m["category"],
        places=data.places,
        weekly_price_per_place=data.weekly_price_per_place,
        start=data.start,
        end=data.end,
    )
    uow.store.insert_block(block, uow.now())
    details = access.sees_child_details(principal)
    view = domain.block_view(block, [], today(uow), child_details=details)
    uow.audit(
        "block_contract.created",
        "block_contract",
        block.block_id,
        None,
        {k: v for k, v in view.items() if k not in ("occupancy", "placements")},
    )
    uow.commit()
    return view


def get_block_contract(block_id: str, query: BlockQuery, uow, principal: dict) -> dict:
    """Occupancy and voids (unused place-weeks) up to ``as_of`` (§7.3)."""
    block = access.can_read_block(principal, uow.store.get_block(block_id), block_id)
    placements = uow.store.block_placements(block_id)
    details = access.sees_child_details(principal)
    return domain.block_view(block, placements, query.as_of or today(uow), child_details=details)


def place_in_block(block_id: str, data: BlockPlaceCreate, uow, principal: dict) -> dict:
    """Place a child into a free block place (§7.3): recorded as a placement at the place
    price. The block row is locked, so two children never get the last place. Placed from
    a referral (``referral_id``), the referral service is told to award and close it."""
    found = uow.store.get_block(block_id, for_update=True)
    block = access.can_place_in_block(principal, found, block_id)
    p = domain.place_in_block(
        block,
        uow.store.block_placements(block_id),
        placement_id=str(uuid.uuid4()),
        child_reference=data.child_reference,
        start_date=data.start_date,
        agreed_at=uow.now(),
        referral_id=data.referral_id,
    )
    if uow.store.placement_by_source_key(p.source_key) is not None:
        raise Conflict(f"referral {data.referral_id} is placed in this block already")
    # §13: sealed under the referral's data key when placed from one (erasing the referral
    # erases this copy too), else under a key of the placement's own
    if data.referral_id and uow.store.vault.get(data.referral_id) is not None:
        p.child_key_id = data.referral_id
    else:
        p.child_key_id = p.placement_id
        uow.store.vault.create(p.placement_id, p.authority, uow.now())
    create_placement(uow, p, "placement.created_in_block")
    if data.referral_id is not None:  # §7.3: the referral is awarded to it and closed
        uow.emit(
            ReferralPlacedInBlock(
                occurred_at=uow.now(),
                referral_id=data.referral_id,
                placement_id=p.placement_id,
                block_id=block.block_id,
                authority=block.authority,
                category=block.category,
                provider_id=block.provider_id,
                establishment_id=block.establishment_id,
            )
        )
    uow.commit()
    return placement_view(uow, p, principal)
