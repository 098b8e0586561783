"""Envelope encryption of children's personal data (RULES §13), in one small library.

- Every referral (and every placement not born of a referral) gets its own random 256-bit
  **data key**. Personal data is sealed with it by AES-256-GCM (``cryptography``'s AEAD;
  nothing home-made): a fresh 96-bit nonce per message, and associated data naming the
  record, so a ciphertext moved to another record does not open.
- The data key is stored only **wrapped** (AES-GCM again) by a **master key** from
  configuration (``DPS_MASTER_KEYS``: ``{version: base64 key}``, ``DPS_MASTER_KEY_VERSION``
  the one new keys are wrapped with). Old versions stay readable, so rotating is: add a new
  version, make it current, ``rewrap`` the stored keys, then retire the old version.
- **Erasure** destroys the wrapped data key ("crypto-shredding"): every ciphertext sealed
  with it, in any table, outbox row, dead-lettered message or backup, is then unreadable.
- A **blind index** (keyed HMAC-SHA256 of the authority and child reference, key derived
  from the master key) lets the owner find records for one child without the reference in
  clear (§13 subject rights).

Sealed values travel as ``"v1." + base64(nonce || ciphertext)``; the key id travels beside
them. No function here logs or raises with the plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common.config import get_settings

PREFIX = "v1."
ERASED = "erased"
"""What a read shows in place of personal data whose key was destroyed (§13)."""

# A well-known development key (the same as in infra and tests): never for production,
# where DPS_MASTER_KEYS comes from the council's secret store.
DEV_MASTER_KEYS = {"1": base64.b64encode(b"dps-development-master-key-0001!").decode()}


class Unreadable(Exception):
    """A ciphertext that cannot be opened: its key was erased, or it was altered."""


@dataclass(frozen=True)
class MasterKeys:
    """The configured master keys by version, and the version that wraps new keys."""

    keys: dict[int, bytes]
    current: int

    @classmethod
    def from_config(cls, keys: dict[str, str], current: int) -> MasterKeys:
        parsed = {int(v): base64.b64decode(k) for v, k in keys.items()}
        for version, key in parsed.items():
            if len(key) != 32:
                raise ValueError(f"master key version {version}: 32 bytes (base64) expected")
        if current not in parsed:
            raise ValueError(f"master key version {current} is not configured")
        return cls(parsed, current)

    @classmethod
    def from_settings(cls, settings: Any) -> MasterKeys:
        return cls.from_config(settings.master_keys, settings.master_key_version)

    def index_key(self) -> bytes:
        """The blind index's HMAC key, derived from the *first* master key so that
        rotating the wrapping key does not change where records are found."""
        first = self.keys[min(self.keys)]
        return hmac.new(first, b"dps blind index v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    master_version: int
    wrapped: bytes


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap(master: MasterKeys, key_id: str, data_key: bytes) -> WrappedKey:
    """The data key sealed by the current master key (associated data: its id)."""
    nonce = os.urandom(12)
    sealed = AESGCM(master.keys[master.current]).encrypt(nonce, data_key, key_id.encode())
    return WrappedKey(key_id, master.current, nonce + sealed)


def unwrap(master: MasterKeys, key: WrappedKey) -> bytes:
    secret = master.keys.get(key.master_version)
    if secret is None:
        raise Unreadable(f"master key version {key.master_version} is not configured")
    try:
        return AESGCM(secret).decrypt(key.wrapped[:12], key.wrapped[12:], key.key_id.encode())
    except InvalidTag as exc:
        raise Unreadable("data key does not open") from exc


def rewrap(master: MasterKeys, key: WrappedKey) -> WrappedKey:
    """Rotation: the same data key wrapped by the current master key version."""
    if key.master_version == master.current:
        return key
    return wrap(master, key.key_id, unwrap(master, key))


def seal(data_key: bytes, plaintext: bytes, context: str) -> str:
    nonce = os.urandom(12)
    blob = nonce + AESGCM(data_key).encrypt(nonce, plaintext, context.encode())
    return PREFIX + base64.b64encode(blob).decode()


def open_sealed(data_key: bytes, sealed: str, context: str) -> bytes:
    if not sealed.startswith(PREFIX):
        raise Unreadable("not a sealed value")
    blob = base64.b64decode(sealed[len(PREFIX):])
    try:
        return AESGCM(data_key).decrypt(blob[:12], blob[12:], context.encode())
    except InvalidTag as exc:
        raise Unreadable("sealed value does not open") from exc


def seal_json(data_key: bytes, value: Any, context: str) -> str:
    return seal(data_key, json.dumps(value, sort_keys=True, default=str).encode(), context)


def open_json(data_key: bytes, sealed: str, context: str) -> Any:
    return json.loads(open_sealed(data_key, sealed, context))


def blind_index(master: MasterKeys, authority: str, child_reference: str) -> str:
    """§13: the keyed hash by which one authority's records of one child are found."""
    message = f"{authority}\x00{child_reference.strip().casefold()}".encode()
    return hmac.new(master.index_key(), message, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- the key vault

vault = MetaData(schema="keys")
data_keys = Table(
    "data_keys",
    vault,
    Column("key_id", String(100), primary_key=True, comment="referral id or placement id"),
    Column("authority", String(20), nullable=False),
    Column("master_version", Integer, nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""The wrapped data keys (schema ``keys``: the platform's key vault, created by the referral
service's migrations, read and written only through ``KeyVault``). Erasing a key deletes
its row; nothing else in it is personal data."""


@lru_cache
def configured_master_keys() -> MasterKeys:
    return MasterKeys.from_settings(get_settings())


class KeyVault:
    """The data keys of one unit of work's session: create, fetch (unwrapped), destroy."""

    def __init__(self, session: Session, master: MasterKeys | None = None):
        self.session = session
        self.master = master or configured_master_keys()
        self._keys: dict[str, bytes | None] = {}

    def create(self, key_id: str, authority: str, now: datetime) -> bytes:
        """A new data key for ``key_id`` (idempotent: an existing key is returned)."""
        existing = self.get(key_id)
        if existing is not None:
            return existing
        data_key = new_data_key()
        w = wrap(self.master, key_id, data_key)
        self.session.execute(
            pg_insert(data_keys)
            .values(key_id=key_id, authority=authority, master_version=w.master_version,
                    wrapped=w.wrapped, created_at=now)
            .on_conflict_do_nothing()
        )
        self._keys[key_id] = data_key
        return data_key

    def get(self, key_id: str) -> bytes | None:
        """The unwrapped data key, or None once erased (or never created)."""
        if key_id not in self._keys:
            row = self.session.execute(
                select(data_keys.c.master_version, data_keys.c.wrapped)
                .where(data_keys.c.key_id == key_id)
            ).first()
            self._keys[key_id] = (
                None if row is None
                else unwrap(self.master, WrappedKey(key_id, row.master_version, row.wrapped))
            )
        return self._keys[key_id]

    def destroy(self, key_id: str) -> bool:
        """Crypto-shredding (§13): every copy sealed with the key becomes unreadable."""
        self._keys[key_id] = None
        done = self.session.execute(delete(data_keys).where(data_keys.c.key_id == key_id))
        return bool(done.rowcount)

    def rotate(self, batch: int = 500) -> int:
        """Rewrap keys of older master versions with the current one; returns how many."""
        rows = self.session.execute(
            select(data_keys).where(data_keys.c.master_version != self.master.current)
            .limit(batch).with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            w = rewrap(self.master, WrappedKey(row.key_id, row.master_version, row.wrapped))
            self.session.execute(
                update(data_keys).where(data_keys.c.key_id == row.key_id)
                .values(master_version=w.master_version, wrapped=w.wrapped)
            )
        return len(rows)

    # ------------------------------------------------------------- sealing with a key

    def seal(self, key_id: str, value: Any) -> str:
        key = self.get(key_id)
        if key is None:
            raise Unreadable(f"data key {key_id} is erased")
        return seal_json(key, value, context(key_id))

    def open(self, key_id: str | None, sealed: str | None) -> Any:
        """The value, or ``ERASED`` when its key was destroyed; None stays None."""
        if sealed is None or key_id is None:
            return None
        key = self.get(key_id)
        if key is None:
            return ERASED
        return open_json(key, sealed, context(key_id))


def context(key_id: str) -> str:
    """The associated data of every value sealed under ``key_id``: the same in every copy
    (referral row, outbox payload, placement), so a copy opens wherever it travels."""
    return f"dps child data:{key_id}"
