"""The OCDS 1.1 release schema with Find a Tender's UK profile merged in (RULES §11.4), for
tests: ``../shared/ocds/1.1/release-schema.json`` patched, per the OCDS extension rules, with
the ``release-schema.json`` of the UK extension and of every extension it declares as a
dependency (``../shared/ocds/extensions/``). Each patch is an RFC 7386 JSON merge patch,
applied with the ``json-merge-patch`` library (pinned in pyproject.toml); dependencies first,
the UK extension last, as OCDS's extension registry tooling orders them.

A test helper, not a production rule: the service builds releases
(``services.contracts.domain.notices``) and never validates them at run time."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import json_merge_patch
from jsonschema import Draft4Validator, FormatChecker

ROOT = Path(__file__).resolve().parents[2]


def _shared_ocds() -> Path:
    """``../shared/ocds`` from the project root (CI has ``shared/`` beside the clone), or the
    parent of ``DPS_OCDS_SCHEMA_DIR`` (the ``…/ocds/1.1`` folder the §7.5 tests use)."""
    configured = os.environ.get("DPS_OCDS_SCHEMA_DIR")
    if configured:
        return Path(configured).resolve().parent
    beside = ROOT.parent / "shared" / "ocds"
    return beside if beside.is_dir() else ROOT.parents[1] / "shared" / "ocds"


SHARED_OCDS = _shared_ocds()
UK_EXTENSION = "ocds_uk_extension"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _dependency_folder(url: str) -> str:
    """``…/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json`` →
    ``ocds_bid_extension``."""
    return next(part for part in url.split("/") if part.startswith("ocds_"))


def profile_extensions(ocds_dir: Path = SHARED_OCDS) -> list[str]:
    """The UK extension's dependencies, then itself. The lots extension is not declared by
    the UK extension but defines ``Lot``, which awardCriteria and subcontracting patch (and
    shared/ocds/README.md lists it in the profile), so every extension folder beside it is
    merged first; each declared dependency must be there."""
    folder = ocds_dir / "extensions"
    meta = _load(folder / UK_EXTENSION / "extension.json")
    present = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name != UK_EXTENSION)
    missing = [d for d in map(_dependency_folder, meta["dependencies"]) if d not in present]
    if missing:
        raise FileNotFoundError(f"UK profile extensions missing: {missing}")
    return present + [UK_EXTENSION]


@lru_cache(maxsize=4)
def uk_release_schema(ocds_dir: str = str(SHARED_OCDS)) -> dict[str, Any]:
    """The core release schema with every profile extension's patch merged in."""
    folder = Path(ocds_dir)
    schema = _load(folder / "1.1" / "release-schema.json")
    for name in profile_extensions(folder):
        schema = json_merge_patch.merge(schema, _load(folder / "extensions" / name /
                                                      "release-schema.json"))
    return schema


@lru_cache(maxsize=4)
def _validator(ocds_dir: str) -> Draft4Validator:
    return Draft4Validator(uk_release_schema(ocds_dir), format_checker=FormatChecker())


def validate_release(release: Mapping[str, Any], ocds_dir: Path = SHARED_OCDS) -> list[str]:
    """Schema errors of one release against the UK profile (empty when valid), each
    ``"<path>: <message>"``."""
    errors = {
        f"{'/'.join(str(p) for p in e.absolute_path) or '(release)'}: {e.message}"
        for e in _validator(str(Path(ocds_dir).resolve())).iter_errors(release)
    }
    return sorted(errors)


def notice_types(release: Mapping[str, Any]) -> list[str]:
    """Every ``documents[].noticeType`` anywhere in the release."""
    found: list[str] = []

    def walk(value: Any, key: str | None = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for item in value:
                if key == "documents" and isinstance(item, dict) and item.get("noticeType"):
                    found.append(item["noticeType"])
                walk(item)

    walk(release)
    return found


def leaked(release: Mapping[str, Any], secrets: Iterable[str]) -> list[str]:
    """The child data values (§13) found anywhere in the release's JSON text."""
    text = json.dumps(release, ensure_ascii=False).lower()
    return [s for s in secrets if s and s.lower() in text]
