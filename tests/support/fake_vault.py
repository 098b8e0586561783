"""An in-memory twin of ``services.common.crypto.KeyVault`` for handler unit tests: the real
AES-GCM sealing, keys kept in a dict instead of ``keys.data_keys``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import crypto


class FakeVault:
    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}

    def create(self, key_id: str, authority: str, now: datetime) -> bytes:
        return self.keys.setdefault(key_id, crypto.new_data_key())

    def get(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)

    def destroy(self, key_id: str) -> bool:
        return self.keys.pop(key_id, None) is not None

    def seal(self, key_id: str, value: Any) -> str:
        return crypto.seal_json(self.create(key_id, "", datetime.now()), value,
                                crypto.context(key_id))

    def open(self, key_id: str | None, sealed: str | None) -> Any:
        if sealed is None or key_id is None:
            return None
        key = self.keys.get(key_id)
        return crypto.ERASED if key is None else crypto.open_json(key, sealed,
                                                                  crypto.context(key_id))
