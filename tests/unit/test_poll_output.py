"""What `nmsquota poll` prints: names as an operator reads them, never a control character."""

from __future__ import annotations

import pytest

from nmsquota.commands.poll import DeviceReport, _print


def test_names_with_control_characters_are_printed_escaped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    row = {"interface": "port\x00", "subscriber": "\u202eevil", "octets_in": 1,
           "octets_out": 2, "download": 0, "upload": 0, "addresses": [], "verdict": "charged",
           "note": ""}  # fmt: skip
    report = DeviceReport("bras", rows=[row], unmapped=["eth\x1b[2J"])
    _print([report, DeviceReport("dead", error="bras2: agent said \x07")], exact=True)
    out, err = capsys.readouterr()
    assert "port\\x00" in out and "\\u202eevil" in out and "agent said \\x07" in out
    assert "not mapped to a subscriber: eth\\x1b[2J" in err
    assert not any(char in out + err for char in "\x00\x1b\x07\u202e")
