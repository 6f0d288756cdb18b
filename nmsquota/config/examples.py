"""A few example strings that a regular expression matches: "<pppoe-(?P<user>.+)>" gives
"<pppoe-a>", "<pppoe-aa>", ...

Used to show that two interface patterns can match one name (nmsquota.config.interfaces).
Every example returned is checked with re.fullmatch, so none is ever wrong; a pattern built
from what is not followed here (lookarounds, back-references) just gives fewer examples.

It reads the pattern with `re._parser`, the standard library's own regex parser: private, so
anything it does not expect ends in no examples rather than an error.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

try:
    from re import _constants as sre
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - a Python whose re is laid out otherwise
    sre = sre_parse = None  # type: ignore[assignment]

# How many ways each piece is tried, and how many candidates in all: enough to find an
# overlap between interface patterns, small enough for thousands of patterns.
PER_PIECE = 3
CANDIDATES = 64
# What a character class or "." stands for, most likely first in interface names.
COMMON = "a0_-.<>/: Z"
CATEGORY_CHARS = {"DIGIT": "0", "NOT_DIGIT": "a", "WORD": "a", "NOT_WORD": "-", "SPACE": " ",
                  "NOT_SPACE": "a", "LINEBREAK": "\n", "NOT_LINEBREAK": "a"}  # fmt: skip


def examples(pattern: str, most: int = 8) -> list[str]:
    """Up to `most` distinct strings that `pattern` matches whole."""
    if sre_parse is None:
        return []
    try:
        compiled = re.compile(pattern)
        parsed = sre_parse.parse(pattern)
        found: list[str] = []
        for text in itertools.islice(_sequence(list(parsed)), CANDIDATES):
            if text not in found and compiled.fullmatch(text):
                found.append(text)
                if len(found) == most:
                    break
        return found
    except Exception:  # a construct this walk does not know: no examples, never an error
        return []


def _sequence(items: list[tuple[Any, Any]]) -> Iterator[str]:
    if not items:
        yield ""
        return
    for head in itertools.islice(_piece(*items[0]), PER_PIECE):
        for tail in itertools.islice(_sequence(items[1:]), PER_PIECE):
            yield head + tail


def _piece(op: Any, value: Any) -> Iterator[str]:
    if op is sre.LITERAL:
        yield chr(value)
    elif op is sre.NOT_LITERAL:
        yield from (c for c in COMMON if ord(c) != value)
    elif op is sre.ANY:
        yield from COMMON
    elif op is sre.IN:
        yield from _in_set(value)
    elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
        low, high, sub = value
        for count in (low, low + 1, low + 2):
            if count <= high:
                for one in itertools.islice(_sequence(list(sub)), PER_PIECE):
                    yield one * count
    elif op is sre.SUBPATTERN:
        yield from _sequence(list(value[-1]))
    elif op is getattr(sre, "ATOMIC_GROUP", None):
        yield from _sequence(list(value))
    elif op is sre.BRANCH:
        for branch in value[1]:
            yield from itertools.islice(_sequence(list(branch)), PER_PIECE)
    else:  # anchors and lookarounds take no text; what else there is, fullmatch sorts out
        yield ""


def _in_set(members: list[tuple[Any, Any]]) -> Iterator[str]:
    if members and members[0][0] is sre.NEGATE:
        yield from COMMON  # the ones in the set fail fullmatch and are dropped
        return
    for op, value in members:
        if op is sre.LITERAL:
            yield chr(value)
        elif op is sre.RANGE:
            yield chr(value[0])
        elif op is sre.CATEGORY:
            name = str(value).removeprefix("CATEGORY_").removeprefix("UNI_").removeprefix("LOC_")
            yield CATEGORY_CHARS.get(name, "a")
