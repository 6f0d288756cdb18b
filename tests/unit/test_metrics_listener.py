"""`[metrics] listen`: the daemon serves what `nmsquota metrics` prints over HTTP, read
through the read API from a thread of its own, one snapshot per commit of the ledger; a
bad address is a configuration error naming the file, the key and what was expected."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO
from prometheus_client.parser import text_string_to_metric_families

from nmsquota.clock import ManualClock
from nmsquota.config import ConfigError, load_config
from nmsquota.errors import UsageError
from nmsquota.nms.metrics import exposition
from nmsquota.nms.metrics_http import MetricsListener, SnapshotCache, listen
from nmsquota.standings import Reader

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
NOW = 1_800_000_000 + 12 * 300 + 60


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger")
    shutil.copy(FIXTURE / "nmsquota.toml", tmp_path)
    return tmp_path


@pytest.fixture
def listener(data: Path):  # type: ignore[no-untyped-def]
    config = load_config(data / "nmsquota.toml")
    # Port 0: the kernel picks a free one (an address in the file must name its port).
    cache = SnapshotCache(data / "ledger", lambda: config)
    served = MetricsListener("127.0.0.1", 0, cache, ManualClock(NOW)).start()
    yield served
    served.close()


def get(
    listener: MetricsListener, path: str = "/metrics", accept: str = ""
) -> tuple[int, str, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{listener.port}{path}")
    if accept:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_a_get_on_loopback_serves_what_the_command_prints(
    data: Path, listener: MetricsListener
) -> None:
    status, kind, body = get(listener)
    snap = Reader.open(data / "ledger", load_config(data / "nmsquota.toml")).snapshot()
    assert status == 200 and kind.startswith("text/plain; version=0.0.4")
    assert body == exposition(snap, NOW)
    assert any(f.name == "nmsquota_subscriber_used_bytes"
               for f in text_string_to_metric_families(body))  # fmt: skip


def test_openmetrics_is_served_to_whoever_asks_for_it(listener: MetricsListener) -> None:
    status, kind, body = get(listener, accept="application/openmetrics-text; version=1.0.0")
    assert status == 200 and kind.startswith("application/openmetrics-text")
    assert body.endswith("# EOF\n")


def test_the_snapshot_is_built_once_per_commit_not_once_per_scrape(
    listener: MetricsListener,
) -> None:
    for _ in range(3):
        assert get(listener)[0] == 200
    assert listener.cache.builds == 1


def test_an_unreadable_ledger_is_a_503_with_the_reason(data: Path) -> None:
    cache = SnapshotCache(data / "nowhere", lambda: None)
    served = MetricsListener("127.0.0.1", 0, cache, ManualClock(NOW)).start()
    try:
        status, _, body = get(served)
    finally:
        served.close()
    assert status == 503 and "no ledger" in body


def test_another_path_is_a_404(listener: MetricsListener) -> None:
    assert get(listener, "/other")[0] == 404


def test_a_port_already_taken_is_one_clear_error(data: Path, listener: MetricsListener) -> None:
    taken = f"127.0.0.1:{listener.port}"
    with pytest.raises(UsageError, match=r"\[metrics\] listen = '127.0.0.1:\d+': cannot listen"):
        listen(taken, data / "ledger", lambda: None, ManualClock(NOW))


@pytest.mark.parametrize("address", ["localhost", "127.0.0.1:", "127.0.0.1:99999",
                                     "::1:9796", ":9796", "127.0.0.1:http"])  # fmt: skip
def test_a_bad_address_names_the_file_the_key_and_what_was_expected(
    tmp_path: Path, address: str
) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text(f'[metrics]\nlisten = "{address}"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    (line,) = str(raised.value).splitlines()
    assert line.startswith(f"{path}: metrics.listen: expected HOST:PORT")
    assert repr(address) in line


@pytest.mark.parametrize("address", ["127.0.0.1:9796", "[::1]:9796", "0.0.0.0:9796",
                                     "metrics.example:9796"])  # fmt: skip
def test_a_good_address_is_kept(tmp_path: Path, address: str) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text(f'[metrics]\nlisten = "{address}"\n')
    assert load_config(path).settings.metrics.listen == address


def test_without_the_key_nothing_listens(tmp_path: Path) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text("")
    assert load_config(path).settings.metrics.listen is None


def test_the_daemon_starts_it_from_the_configuration_it_runs_with(data: Path) -> None:
    from types import SimpleNamespace

    from nmsquota.commands.run import _metrics_listener

    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    path = data / "nmsquota.toml"
    path.write_text(path.read_text() + f'\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
    daemon = SimpleNamespace(config=load_config(path), clock=ManualClock(NOW))
    served = _metrics_listener(daemon, data / "ledger")
    try:
        assert served is not None and served.port == port
        status, _, body = get(served)
        assert status == 200 and "nmsquota_cycles_total" in body
    finally:
        served.close()
    daemon.config = load_config(FIXTURE / "nmsquota.toml")  # no [metrics]
    assert _metrics_listener(daemon, data / "ledger") is None
