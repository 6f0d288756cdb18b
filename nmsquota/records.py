"""Usage records as text lines, the paper's byteconvert formats.

numeric:  SUBSCRIBER EPOCH IN OUT                       davidn 997972561 120505 7555
display:  SUBSCRIBER Www Mmm dd HH:MM:SS YYYY IN OUT     davidn Fri Aug 17 00:07:06 2001 52 0

The display form is ctime(3)'s, with English names whatever the locale, in a given time zone.
Formatting then parsing gives the same sample back; parsing then formatting gives the same
line back for every line in canonical form (which is what `export` writes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.usage import SUBSCRIBER_NAME, Sample

Form = Literal["numeric", "display"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NAME = SUBSCRIBER_NAME
_NUMERIC = re.compile(rf"^({_NAME}) (-?\d+) (\d+) (\d+)$")
_DISPLAY = re.compile(
    rf"^({_NAME}) ({'|'.join(_DAYS)}) ({'|'.join(_MONTHS)}) ([ \d]\d) "
    r"(\d\d):(\d\d):(\d\d) (\d{4}) (\d+) (\d+)$"
)


FIRST_EPOCH = 0
"""1970: no usage was counted before, and a negative epoch is a sign error, not history."""
LAST_EPOCH = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp())
"""Dec 30 9999: the last time whose display form has a four-digit year in every time zone."""
MAX_COUNT = 2**63 - 1
"""The largest byte count the ledger's readers (and SNMP's Counter64) can carry."""


class RecordError(UsageError):
    """A line that is not a usage record; names the source and the line number."""

    def __init__(self, source: str, line_number: int, line: str, expected: str) -> None:
        self.line_number = line_number
        super().__init__(f"{source}:{line_number}: {expected}, got {line!r:.80}")


@dataclass(frozen=True)
class TextForm:
    form: Form
    zone: ZoneInfo

    def format(self, sample: Sample) -> str:
        return f"{sample.subscriber} {self.stamp(sample.time)} {sample.bytes_in} {sample.bytes_out}"

    def stamp(self, when: int) -> str:
        """The time field alone: "997972561" or "Fri Aug 17 00:07:06 2001"."""
        if self.form == "numeric":
            return str(when)
        try:
            local = datetime.fromtimestamp(when, self.zone)
            if not 1 <= local.year <= 9999:
                raise ValueError
        except (OverflowError, OSError, ValueError):
            raise NmsquotaError(
                f"a record at epoch {when} has no date in the display form's four-digit years "
                "(use --numeric)"
            ) from None
        return (
            f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:2d} "
            f"{local:%H:%M:%S} {local.year:04d}"
        )

    def parse(self, line: str, source: str = "-", line_number: int = 0) -> Sample:
        sample = self._parse(line, source, line_number)
        if not FIRST_EPOCH <= sample.time <= LAST_EPOCH:
            raise RecordError(source, line_number, line, f"expected an epoch from {FIRST_EPOCH} "
                              f"to {LAST_EPOCH} (1970 to Dec 30 9999)")  # fmt: skip
        if max(sample.bytes_in, sample.bytes_out) > MAX_COUNT:
            raise RecordError(source, line_number, line,
                              f"expected byte counts of at most {MAX_COUNT}")  # fmt: skip
        return sample

    def _parse(self, line: str, source: str, line_number: int) -> Sample:
        if self.form == "numeric":
            match = _NUMERIC.match(line)
            if match is None:
                raise RecordError(source, line_number, line, "expected SUBSCRIBER EPOCH IN OUT")
            name, epoch, bytes_in, bytes_out = match.groups()
            return Sample(name, int(epoch), int(bytes_in), int(bytes_out))
        match = _DISPLAY.match(line)
        if match is None:
            raise RecordError(
                source,
                line_number,
                line,
                "expected SUBSCRIBER Www Mmm dd HH:MM:SS YYYY IN OUT (e.g. "
                "davidn Fri Aug 17 00:07:06 2001 52 0)",
            )
        name, day, month, mday, hh, mm, ss, year, bytes_in, bytes_out = match.groups()
        try:
            local = datetime(
                int(year),
                _MONTHS.index(month) + 1,
                int(mday),
                int(hh),
                int(mm),
                int(ss),
                tzinfo=self.zone,
            )
        except ValueError as error:
            raise RecordError(source, line_number, line, f"not a real time ({error})") from None
        if local.replace(fold=1).utcoffset() != local.utcoffset():
            # The hour a DST change repeats: the display form cannot say which one.
            raise RecordError(
                source, line_number, line, "a time the DST change makes ambiguous (use --numeric)"
            )
        if _DAYS[local.weekday()] != day:
            raise RecordError(
                source,
                line_number,
                line,
                f"{month} {mday.strip()} {year} is a {_DAYS[local.weekday()]}",
            )
        epoch = int(local.astimezone(UTC).timestamp())
        return Sample(name, epoch, int(bytes_in), int(bytes_out))


def detect_form(line: str) -> Form:
    """A line whose second field is a number is numeric, anything else display."""
    fields = line.split()
    return "numeric" if len(fields) > 1 and fields[1].lstrip("-").isdigit() else "display"


def parse_lines(
    lines: Iterable[str], form: Form | None, zone: ZoneInfo, source: str
) -> Iterator[Sample]:
    """Samples from text lines; blank lines and #-comments are skipped."""
    return (sample for _, sample in numbered_records(lines, form, zone, source))


def numbered_records(
    lines: Iterable[str], form: Form | None, zone: ZoneInfo, source: str
) -> Iterator[tuple[int, Sample]]:
    """(line number, sample) from text lines, so that a later check (a record the ledger
    already has with other counts) can name the line too."""
    text_form: TextForm | None = TextForm(form, zone) if form else None
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if text_form is None:
            text_form = TextForm(detect_form(line), zone)
        yield number, text_form.parse(line, source, number)
