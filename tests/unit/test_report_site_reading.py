"""What the site reads before it draws (nmsquota.report.site): a plan's terms worked out
once for all its subscribers, a day's figures in the table found in the window's series,
the pages unchanged to the byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures.report_site import SECRET, UTC, build, reader_of

from nmsquota.report import site as site_module
from nmsquota.report.site import _at, write_site


def test_a_plans_terms_are_worked_out_once_for_all_its_subscribers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build(tmp_path / "data")
    asked: list[Any] = []
    real = site_module.plan_terms

    def counted(config: Any, plan: str | None) -> Any:
        asked.append(plan)
        return real(config, plan)

    monkeypatch.setattr(site_module, "plan_terms", counted)
    done = write_site(data / "site", reader_of(data), SECRET, UTC)
    assert len(done.pages) == 2  # dora and ivan, both on the week plan
    assert asked == ["week"]


def test_a_cumulative_series_gives_its_total_at_any_moment() -> None:
    points = [(100, 0), (200, 5), (200, 7), (300, 9), (300, 2**70)]
    # The last total at or before the moment; nothing before the first point.
    moments = (-(2**62), 99, 100, 150, 200, 299, 300, 10**9)
    assert [_at(points, t) for t in moments] == [0, 0, 0, 0, 7, 7, 2**70, 2**70]
