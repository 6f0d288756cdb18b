"""Package namespaces that import a name's module only when the name is first used (PEP 562).

`nmsquota.config` and `nmsquota.ledger` export their API from the package, but a short-lived
process (the check plugin, called by a monitoring core every few minutes) may need only a
light corner of them: where the configuration is, who holds the writer lock. Importing the
whole package built every pydantic schema first (a quarter of a second, measured in
bench/bench_check.py). The package keeps its names; each module loads on first use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The `__getattr__` of `package`, whose name N lives in module `where[N]`. The value
    is kept in the package's namespace, so the lookup happens once."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
