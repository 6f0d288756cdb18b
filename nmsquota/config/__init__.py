"""The configuration file: TOML in, typed and validated settings out.

Validation is strict: an unknown key, a bad unit, a missing field or a reference to something
that does not exist fails with the file, the key path and what was expected (ConfigError,
exit status 2). Secrets (SNMP communities, driver keys) may live in a separate file that must
not be readable by group or others.

The package: fields.py the value types (sizes, rates, names, secrets), caps.py plans and caps,
settings.py every other section and the whole file, load.py finding and reading the file.
"""

from nmsquota.config.caps import Cap, Plan
from nmsquota.config.fields import SecretRef
from nmsquota.config.load import (
    ENV_CONFIG,
    SYSTEM_CONFIG,
    SYSTEM_DATA_DIR,
    Config,
    ConfigError,
    config_search_path,
    default_data_dir,
    find_config,
    load_config,
    load_secrets,
)
from nmsquota.config.settings import (
    NOTIFY_FIELDS,
    AccessServer,
    Control,
    Driver,
    Limitd,
    Notify,
    Settings,
    Subscriber,
    Verify,
)

__all__ = [
    "ENV_CONFIG",
    "NOTIFY_FIELDS",
    "SYSTEM_CONFIG",
    "SYSTEM_DATA_DIR",
    "AccessServer",
    "Cap",
    "Config",
    "ConfigError",
    "Control",
    "Driver",
    "Limitd",
    "Notify",
    "Plan",
    "SecretRef",
    "Settings",
    "Subscriber",
    "Verify",
    "config_search_path",
    "default_data_dir",
    "find_config",
    "load_config",
    "load_secrets",
]
