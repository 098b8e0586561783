"""Validating RPC arguments with a service's ``messages.py`` models."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from services.common.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: object) -> M:
    """Validate an RPC argument; pydantic's errors become one InvalidInput (HTTP 422)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        raise InvalidInput(detail, errors) from None
