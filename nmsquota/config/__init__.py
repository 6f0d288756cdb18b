"""The configuration file: TOML in, typed and validated settings out.

Validation is strict: an unknown key, a bad unit, a missing field or a reference to something
that does not exist fails with the file, the key path and what was expected (ConfigError,
exit status 2). Secrets (SNMP communities, driver keys) may live in a separate file that must
not be readable by group or others.

The package: fields.py the value types (sizes, rates, names, secrets), caps.py plans and caps,
settings.py every other section and the whole file, load.py reading it, places.py finding it
(light: no pydantic). Names load on first use (nmsquota.lazy): `from nmsquota.config import
find_config` builds no settings schema.
"""

from typing import TYPE_CHECKING

from nmsquota.lazy import exports

if TYPE_CHECKING:
    from nmsquota.config.caps import (
        Cap,
        Plan,
    )
    from nmsquota.config.fields import (
        SecretRef,
    )
    from nmsquota.config.load import (
        Config,
        ConfigError,
        load_config,
        load_secrets,
    )
    from nmsquota.config.places import (
        ENV_CONFIG,
        SYSTEM_CONFIG,
        SYSTEM_DATA_DIR,
        config_search_path,
        default_data_dir,
        find_config,
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

_WHERE = {
    "Cap": "nmsquota.config.caps",
    "Plan": "nmsquota.config.caps",
    "SecretRef": "nmsquota.config.fields",
    "Config": "nmsquota.config.load",
    "ConfigError": "nmsquota.config.load",
    "load_config": "nmsquota.config.load",
    "load_secrets": "nmsquota.config.load",
    "ENV_CONFIG": "nmsquota.config.places",
    "SYSTEM_CONFIG": "nmsquota.config.places",
    "SYSTEM_DATA_DIR": "nmsquota.config.places",
    "config_search_path": "nmsquota.config.places",
    "default_data_dir": "nmsquota.config.places",
    "find_config": "nmsquota.config.places",
    "NOTIFY_FIELDS": "nmsquota.config.settings",
    "AccessServer": "nmsquota.config.settings",
    "Control": "nmsquota.config.settings",
    "Driver": "nmsquota.config.settings",
    "Limitd": "nmsquota.config.settings",
    "Notify": "nmsquota.config.settings",
    "Settings": "nmsquota.config.settings",
    "Subscriber": "nmsquota.config.settings",
    "Verify": "nmsquota.config.settings",
}
__getattr__ = exports(__name__, _WHERE)
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
