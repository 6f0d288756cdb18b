"""What the suite needs from the machine: on a developer's machine a missing tool or root is
a skip; in CI (CI set) it is a failure, so a test that needs one cannot pass by not running."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from conftest import require, require_root

ABSENT = "nmsquota-test-no-such-tool"
Outcome = pytest.fail.Exception | pytest.skip.Exception


def outcome(need: Callable[[], object]) -> Outcome:
    """What `need` raised, caught so that a skip cannot skip this test instead."""
    try:
        need()
    except (pytest.fail.Exception, pytest.skip.Exception) as raised:
        return raised
    raise AssertionError("neither failed nor skipped")


def test_a_missing_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    raised = outcome(lambda: require(ABSENT))
    assert isinstance(raised, pytest.fail.Exception)
    assert f"{ABSENT} is not installed" in str(raised)


def test_a_missing_tool_is_skipped_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    raised = outcome(lambda: require(ABSENT))
    assert isinstance(raised, pytest.skip.Exception)
    assert f"{ABSENT} is not installed" in str(raised)


def test_not_being_root_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("CI", "true")
    raised = outcome(require_root)
    assert isinstance(raised, pytest.fail.Exception) and "need root" in str(raised)


def test_not_being_root_is_skipped_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.delenv("CI", raising=False)
    raised = outcome(require_root)
    assert isinstance(raised, pytest.skip.Exception) and "need root" in str(raised)


def test_a_tool_in_sbin_is_found_without_sbin_on_the_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert require("ip").endswith("/ip")
