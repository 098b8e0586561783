"""Cursor paging for lists (API.md: ``?limit=&cursor=`` → ``{items, next_cursor}``).

The cursor is the opaque, URL-safe encoding of the last item's sort key."""

from __future__ import annotations

import base64
import json

from services.common.errors import InvalidInput

MAX_LIMIT = 500


def encode(key: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode()


def decode(cursor: str | None) -> list | None:
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except Exception:
        raise InvalidInput.at(["query", "cursor"], "not a cursor from this API") from None


def check_limit(limit: int | None, default: int = 50) -> int:
    limit = default if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput.at(["query", "limit"], f"between 1 and {MAX_LIMIT}")
    return limit


def page(items: list[dict], limit: int, key) -> dict:
    """``items`` fetched with ``limit + 1``; returns the page and the next cursor."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode(key(items[-1])) if more else None}
