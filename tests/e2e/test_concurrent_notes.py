"""Two people press "Add" on one board at the same moment, again and again: both notes stay.

Each trial has both pages submit their note at one instant of the shared clock. A trial
counts as concurrent when both patches were made on the same server position, i.e.
neither page had seen the other's note when it added its own: the case where a
splice used to lose (4 trials in 5).
"""

from __future__ import annotations

import uuid

from playwright.sync_api import Browser, Page, expect

import project.examples.board  # noqa: F401  (the NoteBoard type, for reading the board here)
from docsync.testing import ServerProcess

from .browser import open_app, page_document, python_document, settled, wait_for
from .conftest import SCREENSHOTS, new_context

TRIALS = 12

# Submit ``text`` at time ``at`` (ms, the page's clock); keep the base of the patch it sent.
SUBMIT_AT = """([text, at]) => {
  window.sent = undefined;
  const form = document.querySelector('.ds-note-form');
  setTimeout(() => {
    form.querySelector('input').value = text;
    form.requestSubmit();
    setTimeout(() => {
      const message = window.docsync.connection.protocol.inFlight?.message;
      window.sent = message ? message.content.base : null;
    }, 0);
  }, at - Date.now());
}"""


def _notes(page: Page) -> list[str]:
    return list(page.evaluate("window.docsync.getModelByName('board').get('notes')"))


def test_two_pages_adding_at_once_both_keep_their_notes(server: ServerProcess, browser: Browser) -> None:
    room = f"room-{uuid.uuid4().hex[:8]}"
    contexts = [new_context(browser, viewport={"width": 700, "height": 900}) for _ in range(2)]
    try:
        pages = [open_app(context, f"{server.url}board/?room={room}") for context in contexts]
        for page in pages:  # the board's view is a module of its own, imported once the document is in
            expect(page.locator(".ds-note-form")).to_be_visible()
        concurrent = 0
        lost: list[int] = []
        for trial in range(TRIALS):
            at = pages[0].evaluate("Date.now()") + 250
            for index, page in enumerate(pages):
                page.evaluate(SUBMIT_AT, [f"note {trial}{'ab'[index]}", at])
            # Polled from here: a page in a window that is not in front may not run its polls.
            wait_for(lambda: all(p.evaluate("window.sent !== undefined") for p in pages), 10, f"trial {trial}")
            bases = [page.evaluate("window.sent") for page in pages]
            concurrent += bases[0] is not None and bases[0] == bases[1]
            wait_for(lambda: all(settled(p) for p in pages), 10, f"trial {trial} to settle")
            if not {f"note {trial}a", f"note {trial}b"} <= set(_notes(pages[0])):
                lost.append(trial)
        print(f"\nconcurrent adds: {concurrent} of {TRIALS} trials made on one position; notes lost in {lost}")
        assert lost == [], f"a note was lost in {len(lost)} of {TRIALS} trials ({concurrent} concurrent)"
        assert concurrent >= TRIALS // 2, f"only {concurrent} of {TRIALS} trials were concurrent"
        expected = ["Welcome! Add a note below."] + [f"note {t}{s}" for t in range(TRIALS) for s in "ab"]
        for page in pages:
            assert sorted(_notes(page)) == sorted(expected)
            expect(page.locator(".ds-note-board li")).to_have_count(len(expected))
            expect(page.locator('[data-docsync-name="count"]')).to_have_text(f"{len(expected)} notes")
            expect(page.locator(".ds-notice")).to_have_count(0)  # nothing was lost, nothing to say
        assert page_document(pages[0], server.url) == page_document(pages[1], server.url)
        assert python_document(f"{server.url}board/?room={room}") == page_document(pages[0], server.url)
        pages[1].screenshot(path=SCREENSHOTS / "board-concurrent-adds.png", full_page=True)
        assert pages[0].errors == pages[1].errors == []  # type: ignore[attr-defined]
    finally:
        for context in contexts:
            context.close()
