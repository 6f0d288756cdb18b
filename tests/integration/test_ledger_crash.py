"""kill -9 a real writer at random moments: the ledger must always reopen, whole.

A child process commits cycles as fast as it can and prints each commit number once it has
returned; the parent kills it at a random moment, reopens the ledger as the next writer, and
checks that every cycle the child reported is there, that nothing but whole cycles is there,
and that the window totals equal a full recount. A reader thread in the parent reads the
ledger throughout and must never see a file it cannot parse.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nmsquota.ledger import Ledger, LedgerError, Tally

SUBSCRIBERS = 200
WINDOWS = [Tally(3600), Tally(7 * 86400)]
CHILD = """
import sys
from nmsquota.ledger import Ledger, Sample, Tally
directory, subscribers = sys.argv[1], int(sys.argv[2])
ledger = Ledger.open_writer(directory, [Tally(3600), Tally(7 * 86400)])
seq = ledger.seq
print("open", seq, flush=True)
while True:
    seq += 1
    now = 1_700_000_000 + seq * 300
    samples = [Sample(f"sub{n:04d}", now, seq * 1000 + n, n) for n in range(subscribers)]
    with ledger.batch():
        ledger.commit(now, samples)
        ledger.set_counter_state("bras", {"seq": seq})
    print(f"committed {seq}", flush=True)
"""


def reader_loop(directory: Path, stop: threading.Event, failures: list[str]) -> None:
    while not stop.is_set():
        try:
            reader = Ledger.open_reader(directory)
            seq = reader.seq
            counter = reader.counter_state("bras").get("seq", 0)
            # What a reader sees is one commit: its counter state and its totals belong together.
            if counter != seq:
                failures.append(f"reader saw commit {seq} with counter state of {counter}")
            reader.totals()
        except LedgerError as error:
            if "no ledger" not in str(error):
                failures.append(str(error))
        time.sleep(0.002)  # a breath between reads for the writer (a real process) to commit


@pytest.mark.slow
def test_kill_9_at_any_moment_leaves_a_ledger_that_opens_whole(tmp_path: Path) -> None:
    rng = random.Random(20011)
    directory = tmp_path / "ledger"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    stop = threading.Event()
    failures: list[str] = []
    reader = threading.Thread(target=reader_loop, args=(directory, stop, failures), daemon=True)
    reader.start()
    reported = 0
    kills = 30
    try:
        for _ in range(kills):
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(directory), str(SUBSCRIBERS)],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            try:
                first = child.stdout.readline().split()
                assert first[0] == "open", first
                # The child commits meanwhile: the kill lands anywhere in its commits.
                time.sleep(rng.uniform(0.0, 0.4))
            finally:
                child.send_signal(signal.SIGKILL)
                output, _ = child.communicate(timeout=30)
            # Only whole lines count: the kill can land in the middle of a report.
            whole = [line.split() for line in output.split("\n")[:-1]]
            committed = [int(words[1]) for words in whole if len(words) == 2]
            if committed:
                reported = committed[-1]

            with Ledger.open_writer(directory, WINDOWS) as ledger:
                seq = ledger.seq
                # Every cycle the child saw committed is there; at most the one in flight is not.
                assert seq >= reported
                assert seq <= reported + 1
                samples = list(ledger.samples())
                assert len(samples) == seq * SUBSCRIBERS
                assert {s.time for s in samples} == {
                    1_700_000_000 + k * 300 for k in range(1, seq + 1)
                }
                assert ledger.counter_state("bras").get("seq", 0) == seq
                for tally in WINDOWS:
                    assert ledger.totals(tally) == ledger.recount(tally, ledger.edge(tally))
                reported = seq
    finally:
        stop.set()
        reader.join(timeout=10)
    assert reported > kills  # the children really committed cycles between the kills
    assert not failures, failures[:5]
    # The last writer to open cleaned up whatever temporary files the kills left behind.
    assert list(directory.rglob(".*.tmp")) == []


HOLDER = """
import sys, time
from nmsquota.ledger import Ledger
ledger = Ledger.open_writer(sys.argv[1])
print("holding", flush=True)
time.sleep(60)  # holding the lock until the test kills it
"""


def test_a_second_writer_in_another_process_is_refused_by_pid(tmp_path: Path) -> None:
    directory = tmp_path / "ledger"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(LedgerError) as refused:
            Ledger.open_writer(directory)
        assert f"process {holder.pid}" in str(refused.value)
        reader = Ledger.open_reader(directory)  # readers are never refused
        assert reader.seq == 0
    finally:
        holder.kill()
        holder.wait(timeout=10)
    # The kernel released the dead holder's lock: no stale lock file to clean by hand.
    Ledger.open_writer(directory).close()
