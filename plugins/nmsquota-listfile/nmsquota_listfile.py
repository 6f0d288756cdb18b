"""`listfile`: the limited addresses kept in a text file, for a backend nmsquota has no driver
for but that can reload a list (an ipset restore job, a proxy's ACL, a router's cron script).

One line per address: `ADDRESS<TAB>RATE_BPS<TAB>QUEUE_BYTES<TAB>SUBSCRIBER`. The file is
rewritten whole through a temporary file and a rename, so a reader never sees half of it.
It is the file's only writer: what is in the file is what this driver has installed.

An example of a third-party driver (plugins/README.md): it imports only the driver protocol.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from nmsquota.enforcement.driver import Driver, DriverError, Limit, Options, normalize_address

HEADER = "# written by nmsquota's listfile driver: address, rate (bit/s), queue (bytes), subscriber"


class ListFileOptions(Options):
    path: Path = Field(description="the file to keep the limited addresses in")


class ListFileDriver(Driver):
    type = "listfile"
    options_model = ListFileOptions
    options: ListFileOptions

    def add(self, limits: Sequence[Limit]) -> None:
        table = self._read()
        for limit in limits:
            for address in limit.addresses:
                table[normalize_address(address)] = limit
        self._write(table)

    def remove(self, limits: Sequence[Limit]) -> None:
        table = self._read()
        for limit in limits:
            for address in limit.addresses:
                table.pop(normalize_address(address), None)
        self._write(table)

    def installed(self) -> list[Limit]:
        return sorted(
            Limit(limit.subscriber, (address,), limit.rate_bps, limit.queue_bytes)
            for address, limit in self._read().items()
        )

    def clear(self) -> None:
        self._write({})

    def check(self) -> str:
        directory = self.options.path.parent
        if not os.access(directory, os.W_OK):
            raise DriverError(self.name, f"cannot write in {directory}")
        return f"{len(self.installed())} limits in {self.options.path}"

    def _read(self) -> dict[str, Limit]:
        try:
            text = self.options.path.read_text()
        except FileNotFoundError:
            return {}  # nothing written yet: nothing installed
        except OSError as error:
            message = f"cannot read {self.options.path}: {error.strerror}"
            raise DriverError(self.name, message) from None
        table = {}
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                address, rate, queue, subscriber = line.split("\t", 3)
                table[address] = Limit(subscriber, (address,), int(rate), int(queue))
            except ValueError:
                raise DriverError(
                    self.name, f"{self.options.path}, line {number}: not one of its lines"
                ) from None
        return table

    def _write(self, table: dict[str, Limit]) -> None:
        lines = [HEADER] + [
            f"{address}\t{limit.rate_bps}\t{limit.queue_bytes}\t{limit.subscriber}"
            for address, limit in sorted(table.items())
        ]
        path = self.options.path
        temporary = None
        try:
            with tempfile.NamedTemporaryFile(
                "w", dir=path.parent, prefix=f".{path.name}.", delete=False
            ) as handle:
                temporary = handle.name
                handle.write("\n".join(lines) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as error:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            raise DriverError(self.name, f"cannot write {path}: {error.strerror}") from None
