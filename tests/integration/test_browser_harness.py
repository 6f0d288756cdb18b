"""The headless-Chromium harness (fixtures/browser.py) the report site's tests rely on: it
sees every request a page makes and lets none of them out, its screenshots tell a drawn
page from a blank one, and it never leaves a browser behind."""

from __future__ import annotations

import http.server
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures import browser
from fixtures.browser import RenderError, render
from fixtures.pixels import background_of, inked_share

HEAD = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>test page</title>'


def page(tmp_path: Path, head: str = "", body: str = "") -> Path:
    path = tmp_path / "page.html"
    path.write_text(f"{HEAD}{head}</head><body>{body}</body></html>")
    return path


class Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: red }")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on this machine's loopback (outside the browser's namespace), and the
    paths it was asked for."""
    hits: list[str] = []
    handler = type("Handler", (Counting,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_an_external_stylesheet_and_image_are_logged_and_do_not_load(tmp_path: Path) -> None:
    path = page(
        tmp_path,
        head='<link rel="stylesheet" href="https://fonts.example.com/page.css">',
        body='<img alt="logo" src="http://cdn.example.net/logo.png">',
    )

    rendered = render(path)

    wanted = ("https://fonts.example.com/page.css", "http://cdn.example.net/logo.png")
    assert rendered.requests[0] == path.resolve().as_uri()
    assert set(rendered.outside) == set(wanted)
    assert set(rendered.failed) == set(wanted)
    assert all(reason.startswith("net::ERR_") for reason in rendered.failed.values())
    assert rendered.console_errors  # Chromium reports each failed load on the console


def test_a_literal_address_is_unreachable_even_on_this_machine(
    tmp_path: Path, local_server: tuple[str, list[str]]
) -> None:
    # Without the resolver rule, the network namespace alone: the browser's loopback is not
    # this machine's, so a server listening here hears nothing.
    base, hits = local_server
    path = page(tmp_path, head=f'<link rel="stylesheet" href="{base}/page.css">')

    rendered = render(path, resolver_rules=False)

    assert rendered.outside == (f"{base}/page.css",)
    assert f"{base}/page.css" in rendered.failed
    assert hits == []
    assert background_of(rendered.screenshot) == (255, 255, 255)  # the red never arrived


def test_a_page_with_an_inline_svg_is_drawn(tmp_path: Path) -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" role="img">'
        "<title>usage</title>"
        '<polyline points="10,190 100,150 200,120 390,20" fill="none" stroke="#2060c0" '
        'stroke-width="4"/><rect x="10" y="40" width="380" height="4" fill="#c03020"/></svg>'
    )
    rendered = render(page(tmp_path, body=svg))

    assert rendered.outside == ()
    assert rendered.console_errors == ()
    assert inked_share(rendered.screenshot) > 0.005


def test_a_blank_page_is_blank(tmp_path: Path) -> None:
    rendered = render(page(tmp_path))

    assert inked_share(rendered.screenshot) == 0.0
    assert rendered.outside == ()


def test_dark_pages_are_rendered_dark_when_asked(tmp_path: Path) -> None:
    style = (
        "<style>body { background: #fff } "
        "@media (prefers-color-scheme: dark) { body { background: #000 } }</style>"
    )
    path = page(tmp_path, head=style)

    assert background_of(render(path).screenshot) == (255, 255, 255)
    assert background_of(render(path, color_scheme="dark").screenshot) == (0, 0, 0)


def test_script_errors_are_reported(tmp_path: Path) -> None:
    rendered = render(page(tmp_path, body="<script>undefinedFunction()</script>"))

    assert any("undefinedFunction" in error for error in rendered.console_errors)


def test_a_page_that_never_loads_fails_in_time_and_leaves_no_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = page(tmp_path, body="<script>while (true) {}</script>")
    mark = _mark_processes(monkeypatch)

    with pytest.raises(RenderError, match=r"page\.html"):
        render(path, timeout=6)

    assert _processes_marked(mark) == []


def test_no_browser_process_outlives_a_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mark = _mark_processes(monkeypatch)
    render(page(tmp_path, body="<p>hello</p>"))
    assert _processes_marked(mark) == []


def _mark_processes(monkeypatch: pytest.MonkeyPatch) -> str:
    """An environment variable every process the render starts inherits: other tests'
    browsers, running at the same time, do not have it."""
    mark = f"NQ_BROWSER_TEST={secrets.token_hex(8)}"
    monkeypatch.setenv(*mark.split("=", 1))
    return mark


def _processes_marked(mark: str, within: float = 5.0) -> list[int]:
    """The processes still marked `within` seconds from now (none sooner): the kernel kills
    what a killed PID namespace held one process at a time, and on a loaded machine the
    last may still be dying when the render returns."""
    deadline = time.monotonic() + within
    while (found := _marked_now(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _marked_now(mark: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                environment = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue  # gone meanwhile
            if mark.encode() in environment:
                found.append(int(entry.name))
    return found


def test_a_missing_chromium_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="chromium"):
        browser.require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        browser.require_browser()
