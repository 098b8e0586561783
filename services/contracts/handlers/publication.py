"""Quarterly award publication (RULES §7.5).

Every ended quarter holding an award is frozen: its OCDS package and CSV are rendered once and
stored as bytes; re-reading returns those bytes. Freezing waits
``DPS_PUBLICATION_FREEZE_AFTER_HOURS`` (default 24) after the quarter's end, so that an award
made on its last day whose event is still on its way is included; until then a read is
rendered live. A read of a freezable quarter that the timer has not reached yet freezes it on
the spot (same code). A quarter without any award is never frozen (OCDS needs a release): its
package is 404 and its CSV the header alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from services.common.logging import get_logger
from services.contracts import access, domain
from services.contracts.domain import publication as ocds
from services.contracts.handlers.common import freeze_day
from services.contracts.messages import PublicationQuery

log = get_logger(__name__)


def _awards(uow, quarter: str) -> list[ocds.AwardRecord]:
    start, end = ocds.parse_quarter(quarter)
    placements = uow.store.award_placements(start, end)
    names = uow.store.provider_names([p.provider_id for p in placements if not p.provider_name])
    out = []
    for p in placements:
        if not p.provider_name:
            p.provider_name = names.get(p.provider_id, "")
        award = domain.award_record(p)
        if award is not None:
            out.append(award)
    return out


def _render(awards: list[ocds.AwardRecord], quarter: str, fmt: str, config) -> bytes:
    publication = config.publication()
    if fmt == "csv":
        return ocds.render_csv(awards, quarter, publication)
    return ocds.render_package(ocds.build_package(awards, quarter, publication))


def freeze(uow, quarter: str, config) -> bool:
    """Freeze an ended quarter holding awards: both formats, once (§7.5). The caller
    commits."""
    uow.store.lock(f"publication:{quarter}")
    if uow.store.frozen_publication(quarter, "ocds") is not None:
        return False
    awards = _awards(uow, quarter)
    if not awards:
        return False
    digests = {}
    for fmt in ("ocds", "csv"):
        content = _render(awards, quarter, fmt, config)
        digests[fmt] = hashlib.sha256(content).hexdigest()
        uow.store.freeze_publication(quarter, fmt, content, digests[fmt], len(awards), uow.now())
    uow.audit(
        "publication.frozen",
        "publication",
        quarter,
        None,
        {"quarter": quarter, "awards": len(awards), "sha256": digests},
    )
    return True


def award_publication(query: PublicationQuery, uow, principal: dict, config) -> dict:
    """The quarter's awards as an OCDS 1.1 release package or CSV (§7.5). An ended quarter is
    served from its frozen bytes (frozen now if the timer has not yet done it); the quarter
    in progress shows the awards made so far."""
    access.can_read_publication(principal)
    _, end = ocds.parse_quarter(query.quarter)
    media = "application/json" if query.format == "ocds" else "text/csv; charset=utf-8"
    row = None
    if end < freeze_day(uow, config):
        row = uow.store.frozen_publication(query.quarter, query.format)
        if row is None:
            if freeze(uow, query.quarter, config):
                uow.commit()
            else:
                uow.rollback()
            row = uow.store.frozen_publication(query.quarter, query.format)
    if row is not None:
        content, frozen = bytes(row.content), True
    else:
        awards = _awards(uow, query.quarter)
        content, frozen = _render(awards, query.quarter, query.format, config), False
    return {
        "quarter": query.quarter,
        "format": query.format,
        "media_type": media,
        "frozen": frozen,
        "sha256": hashlib.sha256(content).hexdigest(),
        "content": content.decode("utf-8"),
    }


def freeze_ended_quarters(new_uow: Callable, config) -> int:
    """Timer: freeze every ended quarter that holds an award and is not frozen yet (§7.5),
    each in a unit of work of its own (``new_uow()``)."""
    with new_uow() as uow:
        current_start, _ = ocds.parse_quarter(ocds.quarter_of(freeze_day(uow, config)))
        frozen = uow.store.frozen_quarters("ocds")
        due = [ocds.quarter_of(q) for q in uow.store.award_quarters_before(current_start)]
    count = 0
    for quarter in (q for q in due if q not in frozen):
        with new_uow() as uow:
            if freeze(uow, quarter, config):
                uow.commit()
                count += 1
                log.info("publication frozen", quarter=quarter)
    return count
