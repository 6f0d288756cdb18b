"""`nmsquota report subscriber|operator`: the files written, the summaries printed, and the
one-line errors that write nothing."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fixtures import report_ledger as fx
from fixtures.check_ledger import Someone, build

from nmsquota.cli import main

NS = {"svg": "http://www.w3.org/2000/svg"}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.build(tmp_path_factory.mktemp("report"))


def report(data: Path, *argv: str) -> int:
    return main(["-c", str(data / "nmsquota.toml"), "report", *argv])


def png_facts(blob: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in its pixel rows) of a PNG."""
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", blob[16:24])
    pixels, at = b"", 8
    while at < len(blob):
        (length,) = struct.unpack(">I", blob[at : at + 4])
        kind = blob[at + 4 : at + 8]
        if kind == b"IDAT":
            pixels += blob[at + 8 : at + 8 + length]
        at += 12 + length
    return width, height, len(set(zlib.decompress(pixels)))


def test_a_subscribers_report_is_an_svg_with_their_summary_printed(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dora.svg"
    assert report(data, "subscriber", "dora", "-o", str(out)) == 0
    root = ElementTree.parse(out).getroot()
    assert root.findtext("svg:title", namespaces=NS) == "dora: 2.1 GB of 5 GB (7d)"
    printed = capsys.readouterr().out
    assert printed.startswith("7d: 2.1 GB of 5 GB used in the last 7 days; at this pace")
    assert printed.endswith(f"wrote {out}\n")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_png_is_an_image_of_the_charts_size_with_something_drawn(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ivan.png"
    assert report(data, "subscriber", "ivan", "--png", "-o", str(out)) == 0
    width, height, shades = png_facts(out.read_bytes())
    assert (width, height) == (800, 500)
    assert shades > 20


def test_the_caps_of_a_plan_of_several_are_one_above_the_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = build(tmp_path / "data", [Someone("ana", plan="fair", down=3 * 10**9)])
    out = tmp_path / "ana.png"
    assert report(data, "subscriber", "ana", "--png", "-o", str(out)) == 0
    assert png_facts(out.read_bytes())[:2] == (800, 1000)
    assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()[:2]] == [
        "1h",
        "1d",
    ]


def test_an_unknown_subscriber_is_one_line_and_writes_nothing(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.svg"
    assert report(data, "subscriber", "nobody", "-o", str(out)) == 2
    assert capsys.readouterr().err == (
        "nmsquota: no subscriber 'nobody' in the ledger or the configuration\n"
    )
    assert not out.exists()


def test_an_unwritable_output_is_one_line(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-dir" / "dora.svg"
    assert report(data, "subscriber", "dora", "-o", str(missing)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"nmsquota: cannot write {missing}: ") and err.count("\n") == 1


def test_a_missing_ledger_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "operator", "--ledger", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("nmsquota: no ledger in ")


def test_the_operators_report_writes_its_four_graphs(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(data, "operator", "-o", str(tmp_path), "--days", "3", "--top", "1") == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["daily-volume.svg", "overshoot.svg", "share-of-cap.svg", "top-users.svg"]
    top = ElementTree.parse(tmp_path / "top-users.svg").getroot()
    assert top.findtext("svg:title", namespaces=NS) == "Downloaded per day by the biggest user"
    assert len(capsys.readouterr().out.splitlines()) == 4


@pytest.mark.parametrize("flag", ["--days", "--top"])
def test_days_and_top_must_be_one_or_more(
    data: Path, tmp_path: Path, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(data, "operator", "-o", str(tmp_path), flag, "0") == 2
    assert "1 or more" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
