"""Passwords (RULES §12): at least 12 characters, not a common password, Argon2id."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id (RFC 9106 low-memory)


@lru_cache
def common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "common-passwords.txt").read_text()
    return frozenset(w.strip().lower() for w in text.splitlines() if w.strip())


def problem(password: str, email: str = "") -> str | None:
    """Why the password is refused, or ``None``."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    lowered = password.lower()
    squashed = re.sub(r"[^a-z0-9]", "", lowered)
    stem = re.sub(r"[0-9!@#$%^&*?.]+$", "", lowered)
    if {lowered, squashed, stem} & common_passwords() or len(set(lowered)) < 4:
        return "Password is too common: choose one that is harder to guess"
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in lowered:
        return "Password must not contain your email address"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    if not stored:
        _hasher.hash(password)  # same work either way: timing reveals no account
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
