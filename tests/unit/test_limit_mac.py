"""The limit protocol's MAC against the shared vectors, and the HMAC mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from nmsquota.limitd import mac

VECTORS = REPO.parent / "shared" / "vectors" / "limit-mac.tsv"


def vectors() -> list[tuple[str, str, str]]:
    lines = Path(VECTORS).read_text().splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


@pytest.mark.parametrize(("secret", "challenge", "expected"), vectors())
def test_the_des_mac_reproduces_the_vectors(secret: str, challenge: str, expected: str) -> None:
    assert mac.response("des", secret, challenge) == expected
    assert mac.verify("des", secret, challenge, expected)


def test_there_are_vectors() -> None:
    assert len(vectors()) >= 3


def test_hmac_mode_is_the_full_digest_in_the_same_alphabet() -> None:
    answer = mac.response("hmac-sha256", "sekrit", "3f2a.1732364800.7")
    assert len(answer) == 43 and set(answer) <= set(mac.ALPHABET)
    assert not mac.verify("hmac-sha256", "sekrit", "3f2a.1732364800.8", answer)
    assert not mac.verify("hmac-sha256", "sekrjt", "3f2a.1732364800.7", answer)


def test_a_challenge_names_the_process_the_clock_and_the_attempt() -> None:
    assert mac.challenge(0x3F2A, 1732364800.9, 7) == "3f2a.1732364800.7"
