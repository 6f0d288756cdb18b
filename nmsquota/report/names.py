"""The site's page names: an HMAC-SHA256 of the subscriber's name under the site's secret,
so that a page's address cannot be found from a name (nor a name from an address) without
the secret, and a new secret gives every page a new address."""

from __future__ import annotations

import hashlib
import hmac
import re

NAME_HEX = 32
"""Hex digits kept of the MAC: 128 bits, more than anyone can try over HTTP."""
PAGE_FILE = re.compile(rf"[0-9a-f]{{{NAME_HEX}}}\.html")
"""A file the site wrote (a subscriber's page or the operator's index): the only files in
the site's directory it removes when they are no longer current."""
SHORTEST_SECRET = 16
"""Characters: a page name and its subscriber are known to that subscriber, so a short
secret could be found by trying every one offline, and with it every other page."""
INDEX = "\0operator"
"""What the operator's index is named from: no subscriber's name has a NUL in it."""


def page_name(secret: str, subscriber: str) -> str:
    """The file name of `subscriber`'s page: "<32 hex digits>.html"."""
    mac = hmac.new(secret.encode("utf-8"), subscriber.encode("utf-8"), hashlib.sha256)
    return f"{mac.hexdigest()[:NAME_HEX]}.html"


def index_name(secret: str) -> str:
    """The operator's index, named like a subscriber's page: the directory is served to
    subscribers too, and nothing in it tells the index apart."""
    return page_name(secret, INDEX)
