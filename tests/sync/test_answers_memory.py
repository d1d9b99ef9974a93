"""What a session's remembered answers hold when its client's patches lose many events.

A session remembers REMEMBERED_ANSWERS (1,000) answers, so that a resent patch gets its
answer again; each with the indices of the patch's events that lost. Kept as a tuple of
the decoder's ints, 1,000 answers to stale patches of 1,000 events each (80 MB sent, at
200 patches a second 5 s) held 29 MB of the session's memory, against PATCH_LOG_BYTES'
1 MiB (1.6 MB now). Past 16 they are kept as the bits of an int (``Places``), equal to
the tuple. Counted here (bytes allocated and still held, by tracemalloc), not timed.
"""

from __future__ import annotations

import gc
import tracemalloc

from docsync.sync import answers as answers_module
from docsync.sync.answers import Answer, RememberedAnswers

ANSWERS = 1000
EVENTS = 1000


def test_answers_of_many_lost_events_are_kept_small() -> None:
    answers = RememberedAnswers(max_answers=ANSWERS, max_clients=256)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for n in range(ANSWERS):
            # (Ints made as the decoder makes them: one object per index past 256.)
            lost = tuple(int(str(i)) for i in range(EVENTS))
            answers.remember("mallory", f"m{n}", Answer(n, EVENTS, None, lost))
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert len(answers) == ANSWERS
    # About 400 bytes an answer (its key, its Answer, its bits); 29,000 before.
    assert held < 1000 * ANSWERS, held


def test_places_read_as_the_tuple_they_were_made_from() -> None:
    indices = (0, 3, 4, 17, 300, 999)
    places = answers_module.Places(indices)
    assert list(places) == list(indices) and len(places) == len(indices) and places[3] == 17
    assert places == indices and indices == places and hash(places) == hash(indices)  # type: ignore[comparison-overlap]
    answer = Answer(5, 40, None, tuple(range(0, 80, 2)))
    assert isinstance(answer.lost, answers_module.Places)
    assert answer == Answer(5, 40, None, tuple(range(0, 80, 2)))
    assert list(answer.lost) == list(range(0, 80, 2))
    assert Answer(5, 2, None, (1, 2)).lost == (1, 2)  # few: a tuple, as before
