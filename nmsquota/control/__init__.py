"""The daemon's control socket: session events from ip-up/ip-down, and operator commands.

A UNIX socket, `DATA_DIR/control.sock`, mode 0660 (group from `[control] group`). One JSON
request per line, one JSON reply line (nmsquota.control.protocol). The daemon serves it
(nmsquota.control.server); the CLI, the console and anything else talk to it through
nmsquota.control.client.

This module stays light (no pydantic, no asyncio): readers only need to know where it is.
"""

from __future__ import annotations

from pathlib import Path

SOCKET_NAME = "control.sock"


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME
