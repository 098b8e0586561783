"""services/common/crypto.py (RULES §13): envelope encryption, rotation, erasure."""

from __future__ import annotations

import base64
import os

import pytest

from services.common import crypto

V1 = base64.b64encode(os.urandom(32)).decode()
V2 = base64.b64encode(os.urandom(32)).decode()


def test_a_sealed_value_opens_with_its_key_and_context_only():
    key = crypto.new_data_key()
    sealed = crypto.seal_json(key, {"child_reference": "KCC-1"}, "ctx:a")
    assert "KCC-1" not in sealed and sealed.startswith("v1.")
    assert crypto.open_json(key, sealed, "ctx:a") == {"child_reference": "KCC-1"}
    with pytest.raises(crypto.Unreadable):
        crypto.open_json(key, sealed, "ctx:b")  # moved to another record
    with pytest.raises(crypto.Unreadable):
        crypto.open_json(crypto.new_data_key(), sealed, "ctx:a")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.Unreadable):
        crypto.open_json(key, tampered, "ctx:a")


def test_two_seals_of_one_value_differ():
    key = crypto.new_data_key()
    assert crypto.seal(key, b"x", "c") != crypto.seal(key, b"x", "c")


def test_a_data_key_is_wrapped_by_the_current_master_and_rewrapped_on_rotation():
    old = crypto.MasterKeys.from_config({"1": V1}, 1)
    data_key = crypto.new_data_key()
    wrapped = crypto.wrap(old, "ref-1", data_key)
    assert wrapped.master_version == 1 and data_key not in wrapped.wrapped
    rotated = crypto.MasterKeys.from_config({"1": V1, "2": V2}, 2)
    again = crypto.rewrap(rotated, wrapped)
    assert again.master_version == 2
    assert crypto.unwrap(rotated, again) == data_key
    retired = crypto.MasterKeys.from_config({"2": V2}, 2)
    assert crypto.unwrap(retired, again) == data_key
    with pytest.raises(crypto.Unreadable):
        crypto.unwrap(retired, wrapped)  # version 1 is no longer configured
    with pytest.raises(crypto.Unreadable):
        crypto.unwrap(rotated, crypto.WrappedKey("ref-2", 2, again.wrapped))  # other id


def test_master_keys_are_checked_when_read():
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.MasterKeys.from_config({"1": base64.b64encode(b"short").decode()}, 1)
    with pytest.raises(ValueError, match="version 3"):
        crypto.MasterKeys.from_config({"1": V1}, 3)


def test_the_blind_index_finds_one_authoritys_child_and_survives_rotation():
    master = crypto.MasterKeys.from_config({"1": V1}, 1)
    rotated = crypto.MasterKeys.from_config({"1": V1, "2": V2}, 2)
    ix = crypto.blind_index(master, "KCC", "KCC-0042")
    assert ix == crypto.blind_index(rotated, "KCC", " kcc-0042 ")
    assert ix != crypto.blind_index(master, "ESCC", "KCC-0042")
    assert "KCC-0042" not in ix and len(ix) == 64
