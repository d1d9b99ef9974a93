"""Shared sessions in Chromium: two tabs edit one board; two tabs drag one slider and converge."""

from __future__ import annotations

import uuid

from playwright.sync_api import Browser, expect

from docsync.testing import ServerProcess

from .browser import open_app, page_document, python_document, settled, value, wait_for
from .conftest import SCREENSHOTS, new_context


def test_one_tab_adds_a_note_the_other_shows_it(server: ServerProcess, browser: Browser) -> None:
    room = f"room-{uuid.uuid4().hex[:8]}"
    # Two contexts: two people, each with their own cookies, in one room.
    first_context = new_context(browser, viewport={"width": 900, "height": 640})
    second_context = new_context(browser, viewport={"width": 900, "height": 640})
    try:
        first = open_app(first_context, f"{server.url}board/?room={room}")
        second = open_app(second_context, f"{server.url}board/?room={room}")
        # The custom model's view came from its own module, imported on demand.
        for page in (first, second):
            expect(page.locator(".ds-note-board li")).to_have_count(1)

        first.get_by_role("textbox", name="New note").fill("Buy milk")
        first.get_by_role("textbox", name="New note").press("Enter")
        expect(second.locator(".ds-note-board li")).to_have_count(2)
        expect(second.locator(".ds-note-board li").nth(1)).to_contain_text("Buy milk")
        expect(second.locator('[data-docsync-name="count"]')).to_have_text("2 notes")

        second.get_by_role("textbox", name="New note").fill("<b>not bold</b>")
        second.get_by_role("button", name="Add").click()
        expect(first.locator(".ds-note-board li")).to_have_count(3)
        # Text stays text: markup a user typed is shown, never rendered.
        expect(first.locator(".ds-note-board li").nth(2).locator(".ds-note-text")).to_have_text("<b>not bold</b>")
        assert first.locator(".ds-note-board b").count() == 0

        second.locator(".ds-note-board li").nth(0).get_by_role("button", name="Remove this note").click()
        expect(first.locator(".ds-note-board li")).to_have_count(2)
        expect(first.locator(".ds-note-board li").first).to_contain_text("Buy milk")
        expect(first.locator('[data-docsync-name="count"]')).to_have_text("2 notes")
        first.screenshot(path=SCREENSHOTS / "board.png", full_page=True)
        wait_for(lambda: settled(first) and settled(second), 5, "both tabs to settle")
        assert page_document(first, server.url) == page_document(second, server.url)
        assert first.errors == second.errors == []  # type: ignore[attr-defined]
    finally:
        first_context.close()
        second_context.close()


# Moves a slider as a user's drag does: an input event every few milliseconds, for at
# least ``ms`` and at least ``minEvents`` events (a loaded machine's timers fire late: the
# drag lasts longer, it is not shorter).
SCRIPTED_DRAG = """([name, ms, seed, minEvents]) => new Promise((resolve) => {
  const input = document.querySelector(`[data-docsync-name="${name}"] input`);
  let state = seed, events = 0;
  const random = () => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648; };
  const end = performance.now() + ms;
  const step = () => {
    if (performance.now() > end && events >= minEvents) { resolve(events); return; }
    const span = Number(input.max) - Number(input.min);
    input.value = String(Number(input.min) + random() * span);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    events += 1;
    setTimeout(step, 4);
  };
  step();
})"""


# Counts the changes of a slider's value that came from the server.
COUNT_REMOTE = """(name) => {
  window.remoteChanges = 0;
  window.docsync.onChange((event) => {
    if (event.setter === window.docsync.connection && event.attr === 'value' && event.model.name === name) {
      window.remoteChanges += 1;
    }
  });
}"""


def test_two_tabs_dragging_one_slider_converge(server: ServerProcess, browser: Browser) -> None:
    room = f"room-{uuid.uuid4().hex[:8]}"
    url = f"{server.url}shared_sliders/?room={room}"
    contexts = [new_context(browser, viewport={"width": 1000, "height": 640}) for _ in range(2)]
    try:
        first, second = (open_app(context, url) for context in contexts)
        # Both tabs drag the frequency at once: one with a script firing input events
        # (started without waiting), the other with the mouse, at the same time.
        for page in (first, second):
            page.evaluate(COUNT_REMOTE, "frequency")
        second.evaluate(
            "(args) => { window.dragDone = (" + SCRIPTED_DRAG + ")(args).then((n) => { window.dragged = n; }); }",
            ["frequency", 1500, 7, 51],
        )
        box = first.locator('[data-docsync-name="frequency"] input').bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        first.mouse.move(box["x"] + 10, y)
        first.mouse.down()
        for i in range(30):
            first.mouse.move(box["x"] + 10 + (i % 10) * (box["width"] - 20) / 10, y, steps=2)
            first.wait_for_timeout(20)
        first.mouse.up()
        second.wait_for_function("window.dragged !== undefined", timeout=60_000)
        assert second.evaluate("window.dragged") > 50
        # The drags overlapped: each tab received the other's values while dragging.
        assert first.evaluate("window.remoteChanges") > 0
        assert second.evaluate("window.remoteChanges") > 0

        # Once messages stop, both tabs, and the server, hold one document.
        def converged() -> bool:
            if not (settled(first) and settled(second)):
                return False
            return page_document(first, server.url) == page_document(second, server.url)

        wait_for(converged, 10, "the two tabs to converge", interval=0.2)
        shown = page_document(first, server.url)
        assert python_document(url) == shown
        frequency = value(first, "frequency", "value")
        assert value(second, "frequency", "value") == frequency
        # The widgets show the converged value, not the last one their own user set.
        for page in (first, second):
            assert float(page.locator('[data-docsync-name="frequency"] input').input_value()) == frequency
        assert first.errors == second.errors == []  # type: ignore[attr-defined]
    finally:
        for context in contexts:
            context.close()
