"""One ``InvalidInput`` naming every faulty field (RULES §6: a 422 lists them all)."""

from __future__ import annotations

from collections.abc import Sequence

from services.common.errors import InvalidInput


class FieldErrors:
    """Collects every violation so that one InvalidInput names all the faulty fields."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, loc: Sequence, msg: str) -> None:
        self.items.append({"loc": list(loc), "msg": msg})

    def raise_any(self) -> None:
        if self.items:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in self.items)
            raise InvalidInput(detail, self.items)


def is_whole(value: object) -> bool:
    """A whole number of points or marks (``bool`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)
