"""Uploaded documents (issue 12): evidence for pass/fail criteria (RULES §4) and referral
attachments (§13). One check for every upload: at most 20 MB (413), a type on the allow-list
as its *content* says, whatever its name claims (``filetype``'s magic-number sniffing;
422 otherwise: a renamed executable or an HTML page is refused), and its SHA-256."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import filetype

from services.common.errors import InvalidInput, TooLarge

MAX_BYTES = 20 * 1024 * 1024
ALLOWED = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "image/jpeg": "jpg",
    "image/png": "png",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()-]+")


@dataclass(frozen=True)
class Checked:
    filename: str
    content_type: str
    size: int
    sha256: str


def check(content: bytes, filename: str) -> Checked:
    """The upload's sniffed type, size and digest, or the refusal a user can act on."""
    if len(content) > MAX_BYTES:
        raise TooLarge(f"file: at most {MAX_BYTES // (1024 * 1024)} MB")
    if not content:
        raise InvalidInput.at(["file"], "the file is empty")
    kind = filetype.guess(content)
    if kind is None or kind.mime not in ALLOWED:
        raise InvalidInput.at(
            ["file"], "only PDF, DOCX, XLSX, JPEG and PNG files are accepted "
            f"(this one is {kind.mime if kind else 'of an unknown type'})")
    return Checked(safe_filename(filename, ALLOWED[kind.mime]), kind.mime, len(content),
                   hashlib.sha256(content).hexdigest())


def safe_filename(name: str, extension: str) -> str:
    """A name safe to store and to send back in Content-Disposition, ending in the
    extension of its real type."""
    stem = _SAFE_NAME.sub("_", (name or "document").rsplit("/", 1)[-1]).strip(" ._") or "doc"
    stem = stem[:200]
    return stem if stem.lower().endswith("." + extension) else f"{stem}.{extension}"
