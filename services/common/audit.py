"""Hash-chained audit records (RULES §9). Pure: no database here.

Each record's hash covers its content and the previous record's hash, so editing or
deleting any stored row breaks the chain from that row on. ``verify`` walks a chain.
Records are written unsealed in the business transaction and sealed into the chain, in
the order written, by ``uow.seal_audit`` shortly after (off the write path's lock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> Any:
    """JSON-safe, order-independent form (Decimals and dates become strings)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    body = dict(fields)
    body["occurred_at"] = _iso(body["occurred_at"])
    text = json.dumps({"prev": prev_hash, **body}, sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


HASHED_FIELDS = ("seq", "occurred_at", "actor", "action", "entity_type", "entity_id",
                 "before", "after", "request_id")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str | None = None
    unsealed: int = 0
    """Records written but not yet linked into the chain by the sealer."""

    def as_dict(self) -> dict:
        out = {"ok": self.ok, "checked": self.checked}
        if not self.ok:
            out["first_bad"] = self.first_bad
            out["reason"] = self.reason
        if self.unsealed:
            out["unsealed"] = self.unsealed
        return out


def verify(rows: Iterable[dict[str, Any]]) -> VerifyResult:
    """Check a chain given rows in ``seq`` order, each with HASHED_FIELDS, prev_hash, hash."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for row in rows:
        if row["seq"] != expected_seq:
            return VerifyResult(False, checked, row["seq"], f"expected seq {expected_seq}")
        if row["prev_hash"] != prev:
            return VerifyResult(False, checked, row["seq"], "prev_hash does not match")
        if record_hash(prev, {k: row[k] for k in HASHED_FIELDS}) != row["hash"]:
            return VerifyResult(False, checked, row["seq"], "content does not match its hash")
        prev = row["hash"]
        expected_seq += 1
        checked += 1
    return VerifyResult(True, checked)
