"""What the site takes from the configuration's [report] section, each missing key a
one-line error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

from nmsquota.config import Config
from nmsquota.errors import UsageError

EXAMPLE = '[report] with secret = { secret = "NAME" }, NAME in the secrets file'


def site_secret(config: Config | None) -> str:
    """The key of the site's page names, from the secrets file."""
    if config is None:
        raise UsageError(f"the site's page names need a configuration file: {EXAMPLE}")
    secret = config.secret(config.settings.report.secret)
    if secret is None:
        raise UsageError(f"{config.path}: report.secret: not set (the key of the site's page "
                         f"names): {EXAMPLE}")  # fmt: skip
    return secret


def site_dir(config: Config | None, given: Path | None = None) -> Path:
    """`given`, else [report] site."""
    if given is not None:
        return given
    found = config.settings.report.site if config is not None else None
    if found is None:
        where = f"{config.path}: report.site: not set" if config is not None else "no DIR"
        raise UsageError(f'{where}: give the site\'s directory, or site = "DIR" under [report]')
    return found


def site_url(config: Config | None, page: str) -> str:
    """`page`'s address: [report] url, then the page's file name."""
    base = config.settings.report.url if config is not None else None
    if config is None or base is None:
        where = f"{config.path}: report.url" if config is not None else "report.url"
        raise UsageError(f'{where}: not set (where the site is served, e.g. url = '
                         '"https://usage.example.net/u")')  # fmt: skip
    return f"{base.rstrip('/')}/{page}"
