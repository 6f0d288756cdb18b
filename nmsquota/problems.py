"""Pydantic's validation errors as the lines nmsquota shows: `key.path: what was expected`.

Shared by the configuration (its settings) and the enforcement layer (a driver's options), so
that a wrong option reads the same whether `config check` or a driver built by hand finds it.
Imports nothing of nmsquota: either side may use it without importing the other.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def describe_problem(item: Any, root: type[BaseModel] | None = None, prefix: str = "") -> str:
    """One pydantic error as `key.path: what was expected`, for the model `root` (which, when
    given, lets an unknown key's message list the keys allowed there)."""
    where = prefix + (".".join(str(part) for part in item["loc"]) or "(top level)")
    kind = item["type"]
    if kind == "extra_forbidden":
        expected = _expected_keys(item["loc"], root) if root is not None else ""
        return f"{where}: unknown key{expected}"
    if kind == "missing":
        return f"{where}: missing (required)"
    message = item["msg"]
    if kind == "literal_error":
        return f"{where}: {message[0].lower()}{message[1:]}, got {item['input']!r}"
    if kind in ("string_pattern_mismatch",):
        return f"{where}: {item['input']!r} is not a valid name (letters, digits, . _ @ + -)"
    return f"{where}: {message[0].lower()}{message[1:]}"


def _expected_keys(loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    """The keys allowed where an unknown one was found, walking the models along `loc`."""
    model: Any = root
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = field.annotation if field else None
        inner = _model_in(annotation)
        if inner is not None:
            model = inner
        elif field is None and isinstance(part, str | int):
            # a dict key such as a plan name, or a list index such as a plan's caps.0: the
            # model is the value type
            continue
        else:
            return ""
    names = ", ".join(model.model_fields)
    return f" (expected one of: {names})"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
