"""The operator's actions in the console: limit, release, exempt, top-up and removing an
override, each a dialog that asks what the CLI asks, confirms, and performs the action.

The dialog checks what was typed with the CLI's own parser (nmsquota.actions.action_request,
the control protocol's models), so a bad duration or amount, an empty reason or a name that is
no subscriber's is refused here, in one line, before anything is sent or written. It acts
through `app.performer` (a nmsquota.actions.Performer: the daemon's control socket, else the
ledger), in a thread worker so that a slow daemon never freezes the screen, and shows what the
daemon answered or why it refused. Everything shown is text, never markup: a reason or a name
with brackets in it is shown as typed.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from nmsquota import units
from nmsquota.actions import Action, Kind, action_request
from nmsquota.control.protocol import Exempt, Limit, OverrideRemove, Release, Topup
from nmsquota.errors import NmsquotaError
from nmsquota.names import printable

Phase = Literal["form", "confirm", "working", "done", "failed"]

TITLES: dict[Kind, str] = {
    "limit": "Limit",
    "release": "Release",
    "exempt": "Exempt",
    "topup": "Top up",
    "remove": "Remove override",
}

# (id, label, placeholder) of each field, in the order asked, per kind: what the CLI asks.
_REASON = ("reason", "Reason", "why, recorded in the ledger")
_DURATION = ("duration", "For", "e.g. 2h or 7d; empty: until removed")
_CAP = ("cap", "Cap", "one cap's name, e.g. 1d; empty: the whole plan")
_AMOUNT = ("amount", "Amount", "e.g. 5GB")
FIELDS: dict[Kind, tuple[tuple[str, str, str], ...]] = {
    "limit": (_REASON, _DURATION, _CAP),
    "exempt": (_REASON, _DURATION, _CAP),
    "topup": (_AMOUNT, _REASON, _DURATION, _CAP),
    "release": (("reason", "Reason", "optional, for the event log"),),
    "remove": (_REASON,),
}

FIELD_OF = {"reason": "reason", "for": "duration", "cap": "cap", "size": "amount"}
"""The protocol's name of a field, as an error names it -> the input that holds it."""

HINTS: dict[Phase, str] = {
    "form": "enter: continue   tab: next field   escape: cancel",
    "confirm": "y: yes, do it   n: back to the form   escape: cancel",
    "working": "sending...",
    "done": "enter or escape: close",
    "failed": "enter: back to the form   escape: cancel",
}


class Performs(Protocol):
    """What the dialog needs from `app.performer`: nmsquota.actions.Performer. What perform
    returns is shown as str() (an Outcome: the line the CLI prints)."""

    def perform(self, action: Action) -> object: ...


class ActionScreen(ModalScreen[str | None]):
    """One action on one subscriber (or, for "remove", one override by its id): dismissed with
    what the daemon (or the ledger's writer) said it did, or None when cancelled or refused."""

    DEFAULT_CSS = """
    ActionScreen {
        align: center middle;
    }
    ActionScreen > #dialog {
        width: 78;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ActionScreen #title {
        text-style: bold;
        width: 100%;
    }
    ActionScreen .field {
        height: auto;
    }
    ActionScreen .field > Label {
        width: 8;
        padding: 1 0 0 0;
    }
    ActionScreen .field > Input {
        width: 1fr;
    }
    ActionScreen #question {
        text-style: bold;
        width: 100%;
    }
    ActionScreen #answer {
        color: $success;
        width: 100%;
    }
    ActionScreen #error {
        color: $error;
        width: 100%;
    }
    ActionScreen #hint {
        color: $text-muted;
        width: 100%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "yes", "Yes", show=False),
        Binding("n", "no", "No", show=False),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, kind: Kind, subscriber: str, override_id: str | None = None) -> None:
        if kind == "remove" and override_id is None:
            raise ValueError("removing an override needs its id")
        super().__init__()
        self.kind = kind
        self.subscriber = subscriber
        self.override_id = override_id
        self.phase: Phase = "form"
        self.request: Action | None = None
        """The request confirmed or being confirmed: checked, never re-read from the form."""
        self.message: str | None = None
        """What the daemon said it did, once it did."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self._title(), id="title", markup=False)
            for ident, label, placeholder in FIELDS[self.kind]:
                with Horizontal(classes="field"):
                    yield Label(label, markup=False)
                    yield Input(placeholder=placeholder, id=ident)
            yield Static("", id="question", markup=False)
            yield Static("", id="answer", markup=False)
            yield Static("", id="error", markup=False)
            yield Static(HINTS["form"], id="hint", markup=False)

    def on_mount(self) -> None:
        self._enter("form")

    def _title(self) -> str:
        if self.kind == "remove":
            of = f" of {printable(self.subscriber)}" if self.subscriber else ""
            return f"{TITLES['remove']} {printable(self.override_id or '')}{of}"
        return f"{TITLES[self.kind]} {printable(self.subscriber)}"

    # The phases: form -> confirm -> working -> done | failed (-> form).

    def _enter(self, phase: Phase, *, error: str = "", answer: str = "") -> None:
        self.phase = phase
        editing = phase == "form"
        for field in self.query(Input):
            field.disabled = not editing
        self._say("#error", error)
        self._say("#answer", answer)
        if phase in ("form", "failed"):
            self._say("#question", "")
        self.query_one("#hint", Static).update(HINTS[phase])
        if editing:
            if not isinstance(self.focused, Input):
                self.query(Input).first().focus()
        else:
            self.set_focus(None)
        self.refresh_bindings()

    def _say(self, where: str, text: str) -> None:
        """Shows `text` in the line `where`, which takes no room while it is empty."""
        line = self.query_one(where, Static)
        line.update(printable(text))
        line.display = bool(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = {
            "yes": self.phase == "confirm",
            "no": self.phase == "confirm",
            "close": self.phase in ("done", "failed"),
            "cancel": self.phase != "working",  # a request sent cannot be called back
        }
        return allowed.get(action, True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.phase != "form":
            return
        try:
            self.request = self._request()
        except NmsquotaError as error:  # RequestError: one line naming the field
            self._enter("form", error=str(error))
            self._focus_named(str(error))
            return
        self._enter("confirm")
        self._say("#question", question(self.request))

    def _focus_named(self, error: str) -> None:
        """The cursor to the field the error names ("for: expected a duration..."), to fix."""
        named = FIELD_OF.get(error.split(":", 1)[0])
        if named is not None and self.query(f"#{named}"):
            self.query_one(f"#{named}", Input).focus()

    def _request(self) -> Action:
        values = {field.id: field.value for field in self.query(Input) if field.id is not None}

        def optional(name: str) -> str | None:
            text = values.get(name, "").strip()
            return text or None

        reason = values.get("reason")
        if self.kind == "release" and reason is not None and not reason.strip():
            reason = None  # a release's reason is optional, as with the CLI's --reason
        return action_request(self.kind, self.subscriber, reason=reason,
                              duration=optional("duration"), size=values.get("amount"),
                              cap=optional("cap"),
                              override_id=self.override_id or "")  # fmt: skip

    def action_yes(self) -> None:
        assert self.request is not None
        self._enter("working")
        self._perform(self.request)

    def action_no(self) -> None:
        self._enter("form")

    def action_close(self) -> None:
        if self.phase == "done":
            self.dismiss(self.message)
        elif self.phase == "failed":
            self._enter("form")

    def action_cancel(self) -> None:
        # After it was done, closing is not cancelling: the caller hears what was done.
        self.dismiss(self.message if self.phase == "done" else None)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _perform(self, request: Action) -> None:
        performer: Performs = self.app.performer  # type: ignore[attr-defined]
        try:
            answer = str(performer.perform(request))
        except NmsquotaError as error:
            self.app.call_from_thread(self._failed, str(error))
        except Exception as error:  # never a traceback on the operator's screen
            self.app.call_from_thread(self._failed, f"{type(error).__name__}: {error}")
        else:
            self.app.call_from_thread(self._done, answer)

    def _done(self, answer: str) -> None:
        self.message = answer
        self._enter("done", answer=answer)

    def _failed(self, error: str) -> None:
        self._enter("failed", error=error)


def question(request: Action) -> str:
    """The confirmation asked before `request` is sent: "Limit carol for 2h: abuse? [y/n]"."""
    match request:
        case OverrideRemove():
            what = f"Remove override {request.id}: {request.reason}"
        case Release():
            why = f": {request.reason}" if request.reason is not None else ""
            what = f"Release {request.subscriber} (drop their force overrides){why}"
        case Limit() | Exempt() | Topup():
            verb = {"limit": "Limit", "exempt": "Exempt", "topup": "Top up"}[request.op]
            size = f" by {units.format_bytes(request.size)}" if isinstance(request, Topup) else ""
            on = f" on cap {request.cap}" if request.cap is not None else ""
            ends = ("until removed" if request.duration is None
                    else f"for {units.format_duration(request.duration)}")  # fmt: skip
            what = f"{verb} {request.subscriber}{size}{on} {ends}: {request.reason}"
    return printable(what) + "? [y/n]"
