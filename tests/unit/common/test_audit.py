"""RULES §9: the audit chain detects any edit, deletion or reordering."""

from datetime import datetime, timedelta, timezone

import pytest

from services.common import audit


def _chain(n: int) -> list[dict]:
    rows, prev = [], audit.GENESIS
    start = datetime(2026, 4, 1, 9, tzinfo=timezone.utc)
    for i in range(1, n + 1):
        fields = {"seq": i, "occurred_at": start + timedelta(minutes=i),
                  "actor": {"role": "lead", "authority": "WSCC"}, "action": "suspend",
                  "entity_type": "membership", "entity_id": f"m{i}",
                  "before": {"status": "admitted"}, "after": {"status": "suspended"},
                  "request_id": f"r{i}"}
        h = audit.record_hash(prev, fields)
        rows.append({**fields, "prev_hash": prev, "hash": h})
        prev = h
    return rows


def test_untouched_chain_verifies():
    result = audit.verify(_chain(5))
    assert result.as_dict() == {"ok": True, "checked": 5}


def test_empty_chain_verifies():
    assert audit.verify([]).ok


@pytest.mark.parametrize("field,value", [
    ("occurred_at", datetime(2030, 1, 1, tzinfo=timezone.utc)),
    ("actor", {"role": "auditor"}),
    ("action", "reinstate"),
    ("entity_type", "application"),
    ("entity_id", "other"),
    ("before", {"status": "removed"}),
    ("after", None),
    ("request_id", "forged"),
])
def test_editing_any_field_of_any_row_is_detected(field, value):
    for index in range(4):
        rows = _chain(4)
        rows[index][field] = value
        result = audit.verify(rows)
        assert not result.ok
        assert result.first_bad == index + 1


def test_rehashing_an_edited_row_breaks_the_next_link():
    rows = _chain(3)
    rows[1]["action"] = "forged"
    rows[1]["hash"] = audit.record_hash(rows[1]["prev_hash"],
                                        {k: rows[1][k] for k in audit.HASHED_FIELDS})
    result = audit.verify(rows)
    assert (result.ok, result.first_bad) == (False, 3)


def test_deleting_a_row_is_detected():
    rows = _chain(4)
    del rows[1]
    result = audit.verify(rows)
    assert (result.ok, result.first_bad) == (False, 3)


def test_swapping_rows_is_detected():
    rows = _chain(3)
    rows[0], rows[1] = rows[1], rows[0]
    assert not audit.verify(rows).ok


def test_canonical_form_ignores_key_order_and_stringifies_decimals():
    from decimal import Decimal

    assert audit.canonical({"b": Decimal("1.10"), "a": 1}) == {"a": 1, "b": "1.10"}
