"""The driver registry: which enforcement driver a configured `type` names.

Every driver, nmsquota's own included, is an entry point in the group `nmsquota.drivers`: its
name is the `type` of a `[drivers.NAME]` table, its object the driver's class. nmsquota
registers its own in pyproject.toml; a third party ships a driver as a distribution that
registers one the same way (plugins/README.md), and nothing in nmsquota changes.

This module imports no driver and nothing of the enforcement layer, so the configuration can
ask it for a driver's options model without depending on that layer: only the driver a
configuration names is loaded, when it is asked for.
"""

from __future__ import annotations

import difflib
from importlib import metadata

from pydantic import BaseModel

from nmsquota.errors import UsageError

GROUP = "nmsquota.drivers"
OWN_DISTRIBUTION = "nmsquota"


class DriverTypeError(UsageError):
    """A `type` that no installed distribution registers, or whose registration is broken."""


def driver_types() -> list[str]:
    """Every registered driver type, sorted."""
    return sorted({point.name for point in metadata.entry_points(group=GROUP)})


def driver_class(type_name: str) -> type:
    """The class registered as `type_name`, loaded now. It has an `options_model`; whether it
    is a proper nmsquota Driver is for the enforcement layer, which builds it, to check."""
    points = [point for point in metadata.entry_points(group=GROUP) if point.name == type_name]
    if not points:
        raise DriverTypeError(_unknown(type_name))
    if len(points) > 1:
        # Two distributions claiming one name: picking either would depend on sys.path order.
        both = " and ".join(_origin(point) for point in points)
        raise DriverTypeError(f"driver type {type_name!r} is registered twice ({both}): "
                              "uninstall one of them")  # fmt: skip
    point = points[0]
    try:
        loaded = point.load()
    except Exception as error:  # a third party's module failing to import: one line, not a trace
        raise DriverTypeError(f"driver type {type_name!r} ({_origin(point)}) could not be "
                              f"loaded: {type(error).__name__}: {error}") from None  # fmt: skip
    model = getattr(loaded, "options_model", None)
    if not (isinstance(loaded, type) and isinstance(model, type) and issubclass(model, BaseModel)):
        raise DriverTypeError(f"driver type {type_name!r} ({_origin(point)}) is not an "
                              "nmsquota driver (a class with an options_model)")  # fmt: skip
    return loaded


def options_model(type_name: str) -> type[BaseModel]:
    """The pydantic model of the options a driver of `type_name` takes."""
    model: type[BaseModel] = driver_class(type_name).options_model  # type: ignore[attr-defined]
    return model


def _unknown(type_name: str) -> str:
    points = list(metadata.entry_points(group=GROUP))
    known = sorted({point.name for point in points})
    message = f"no driver of type {type_name!r} (known: {', '.join(known) or 'none'})"
    close = difflib.get_close_matches(type_name, known, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    if not any(point.dist and point.dist.name == OWN_DISTRIBUTION for point in points):
        # An install from before nmsquota's own drivers were entry points, say: the package
        # imports, but its metadata registers nothing until it is installed again.
        message += "; nmsquota's own drivers are not registered: reinstall it (pip install .)"
    return message


def _origin(point: metadata.EntryPoint) -> str:
    """`module:Class from distribution version`, so the operator knows what to fix."""
    if point.dist is None:
        return point.value
    return f"{point.value} from {point.dist.name} {point.dist.version}"
