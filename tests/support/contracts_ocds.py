"""OCDS schema validation for the contracts tests and bench (RULES §7.5): a release package
is checked against the OCDS 1.1 release package schema, and again with the techniques
extension merged into the release schema. A test helper, not a production rule: the
service renders packages (``services.contracts.domain.publication``) and never validates
them at run time."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker
from jsonschema.validators import validator_for
from referencing import Registry, Resource

RELEASE_SCHEMA_ID = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"

# --- schema validation -------------------------------------------------------------------


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (how OCDS extensions patch the release schema)."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = json_merge_patch(merged.get(key), value)
    return merged


def _load(schema_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((schema_dir / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def _validators(schema_dir: str) -> tuple[Any, Any]:
    """(core, core + techniques extension) validators of a release package, resolving the
    release schema by its id URL from a local ``referencing.Registry`` (no network)."""
    folder = Path(schema_dir)
    package_schema = _load(folder, "release-package-schema.json")
    release_schema = _load(folder, "release-schema.json")
    patched = json_merge_patch(
        release_schema, _load(folder, "techniques-extension-release-schema.json")
    )
    cls = validator_for(package_schema)
    out = []
    for release in (release_schema, patched):
        registry = Registry().with_resource(RELEASE_SCHEMA_ID, Resource.from_contents(release))
        out.append(cls(package_schema, registry=registry, format_checker=FormatChecker()))
    return out[0], out[1]


def validate_package(package: Mapping[str, Any], schema_dir: Path) -> list[str]:
    """Schema errors of a release package (empty when valid), checked against the OCDS 1.1
    release package schema and again with the techniques extension merged into the release
    schema (stricter: types of ``tender.techniques``). Each error is ``"<path>: <message>"``.
    ``schema_dir`` holds ``release-package-schema.json``, ``release-schema.json`` and
    ``techniques-extension-release-schema.json``; a missing file raises ``FileNotFoundError``."""
    errors: set[str] = set()
    for validator in _validators(str(Path(schema_dir).resolve())):
        for error in validator.iter_errors(package):
            path = "/".join(str(part) for part in error.absolute_path) or "(package)"
            errors.add(f"{path}: {error.message}")
    return sorted(errors)
