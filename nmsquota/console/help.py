"""`?`: every key of the console, on one screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("Screens", (
        ("1", "subscribers"),
        ("2", "access servers"),
        ("3", "enforcement drivers"),
        ("4", "events"),
        ("enter", "the subscriber under the cursor, in detail"),
        ("escape", "back (or clear the filter)"),
        ("?", "this help"),
        ("q", "quit"),
    )),
    ("Moving (the mouse works too: click, wheel)", (
        ("up/down", "a row (pgup/pgdn: a page)"),
        ("home/end", "the first or the last row"),
        ("left/right", "scroll sideways"),
    )),
    ("Subscribers", (
        ("/", "filter as you type (name, address, state, plan, server)"),
        ("f", "quick filter: all, limited only, not effective only"),
        ("s", "sort by the next column (or click a column's heading)"),
        ("o", "reverse the order"),
        ("ctrl+r", "read the ledger now (else every refresh interval)"),
    )),
    ("Actions on the selected subscriber (each asks to confirm)", (
        ("L", "limit"),
        ("R", "release"),
        ("E", "exempt"),
        ("T", "top-up"),
        ("X", "remove an override (detail screen, on the override)"),
    )),
)  # fmt: skip


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        lines = []
        for title, keys in KEYS:
            lines.append(f"[b]{title}[/b]")
            lines += [f"  [b]{key:>10}[/b]  {what}" for key, what in keys]
            lines.append("")
        lines.append("STATE: ok, warned (past a warning), stepped (at a step before the cap),")
        lines.append("limited, forced (by an operator), exempt, topped-up, not effective")
        lines.append("(limited, but measured not to bite). USAGE: the cap closest to biting;")
        lines.append("+N: the plan has N more caps.")
        with VerticalScroll(id="help"):
            yield Static("\n".join(lines))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
