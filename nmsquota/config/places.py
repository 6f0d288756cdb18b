"""Where the configuration file and the data directory are: the search path, the defaults,
and a file's own `data_dir`, found without validating the rest of the file.

Light on purpose (no pydantic): the check plugin needs only the ledger's directory to read
the summary the daemon writes, and a monitoring core runs it every few minutes.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

ENV_CONFIG = "NMSQUOTA_CONFIG"
SYSTEM_CONFIG = Path("/etc/nmsquota/nmsquota.toml")
SYSTEM_DATA_DIR = Path("/var/lib/nmsquota")


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return SYSTEM_DATA_DIR
    import platformdirs  # only here: its import costs a check plugin's call 4 ms

    return Path(platformdirs.user_data_dir("nmsquota"))


def config_search_path() -> list[Path]:
    """Where nmsquota looks for its configuration when --config is not given, in order."""
    import platformdirs

    paths = []
    if os.environ.get(ENV_CONFIG):
        paths.append(Path(os.environ[ENV_CONFIG]))
    paths.append(Path(platformdirs.user_config_dir("nmsquota")) / "nmsquota.toml")
    paths.append(SYSTEM_CONFIG)
    return paths


def find_config() -> Path | None:
    return next((path for path in config_search_path() if path.exists()), None)


def data_dir_of(path: Path) -> Path | None:
    """The data directory the configuration file at `path` names, or the default when it
    names none; None when the file cannot be read or its `data_dir` is not a plain path
    (the caller then loads the whole file, whose error says what is wrong)."""
    try:
        with path.open("rb") as file:
            found = tomllib.load(file).get("data_dir")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    if found is None:
        return default_data_dir()
    return Path(found) if isinstance(found, str) and found and "\0" not in found else None
