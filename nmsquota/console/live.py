"""What every screen of live data shares: the app hands it each snapshot (`show`), and the
first may come before the screen is composed, so the last one is kept and drawn on mount."""

from __future__ import annotations

from datetime import tzinfo

from textual.screen import Screen

from nmsquota.standings import Snapshot


class LiveScreen(Screen[None]):
    """A screen the app shows each new snapshot. Subclasses draw it in `show` (returning
    early while not composed) and end their `on_mount` with `show_kept()`."""

    def __init__(self, *, zone: tzinfo | None = None, name: str | None = None,
                 id: str | None = None) -> None:  # fmt: skip
        """`zone`: the time zone moments are shown in (None: this machine's)."""
        super().__init__(name=name, id=id)
        self.zone = zone
        self.snapshot: Snapshot | None = None
        """The last snapshot shown (shown on mount if it came before)."""

    def show(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def show_kept(self) -> None:
        """Draw the snapshot kept from before the screen was composed, if any."""
        if self.snapshot is not None:
            self.show(self.snapshot)
