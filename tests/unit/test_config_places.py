"""Where the configuration and the data directory are, found without validating the file
(the check plugin's fast path): a file's own data_dir, the default when it names none, and
None (load the whole file, whose error says what is wrong) when it cannot say."""

from __future__ import annotations

from pathlib import Path

import pytest

from nmsquota.config.places import data_dir_of, default_data_dir


def test_a_files_data_dir_is_read_without_validating_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text('data_dir = "/srv/quota"\ninterval = "soon"\n')
    assert data_dir_of(path) == Path("/srv/quota")


def test_a_file_naming_no_data_dir_means_the_default(tmp_path: Path) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text('interval = "5m"\n')
    assert data_dir_of(path) == default_data_dir()


@pytest.mark.parametrize("text", ["data_dir = 5\n", 'data_dir = ""\n', "data_dir = [\n",
                                  'data_dir = "a\\u0000b"\n', "\xff\xfe"])  # fmt: skip
def test_a_data_dir_that_is_not_a_plain_path_or_a_file_that_is_not_toml_says_nothing(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_bytes(text.encode("latin-1"))
    assert data_dir_of(path) is None


def test_a_file_that_cannot_be_read_says_nothing(tmp_path: Path) -> None:
    assert data_dir_of(tmp_path / "missing.toml") is None
    assert data_dir_of(tmp_path) is None
