"""Text that reaches a monitoring core: subscriber names, device names and error messages
escaped so that none of them can break the plugin's one-line output, and perfdata labels
the Monitoring Plugins guidelines accept.

A name comes from an operator's configuration, a RADIUS username or an access server's
interface: it may hold a newline (the core would read a second output line), a `|` (the
core would read what follows as perfdata), or an invisible format character. nmsquota.names
escapes control and format characters as everything else nmsquota prints does; a `|` is
written `\\x7c` here on top of that.
"""

from __future__ import annotations

import re

from nmsquota.names import printable

_NOT_LABEL = re.compile(r"[^0-9A-Za-z_.-]")


def escape(text: str) -> str:
    """`text` with every control, format, line or paragraph separator character (what
    str.splitlines splits on included) and `|` written as an escape."""
    return printable(text).replace("|", "\\x7c")


def one_line(message: str) -> str:
    """An error message (a configuration error lists one problem a line) as one line,
    escaped."""
    return escape("; ".join(line.strip() for line in message.splitlines() if line.strip()))


def perf_label(text: str) -> str:
    """A perfdata label from a configured name (a cap's "1d", "night"): letters, digits,
    `_ . -` kept, anything else (a quote or `=` would make the label invalid) as `_`."""
    return _NOT_LABEL.sub("_", text) or "_"
