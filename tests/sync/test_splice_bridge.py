"""SpliceBridge: per client, the splices it has not seen, shifted as its own splices see them."""

from __future__ import annotations

from docsync.sync.bridge import ListChange, SpliceBridge
from docsync.sync.splices import Splice

KEY = ("board", "notes")


def _apply(items: list[str], splice: Splice, new: list[str]) -> list[str]:
    return items[: splice.index] + new + items[splice.index + splice.delete :]


def test_a_splice_is_shifted_past_what_its_client_had_not_seen() -> None:
    bridge = SpliceBridge()
    # Position 5: another client appended to ["w", "x"]; ours, made on position 4, appends too.
    bridge.catch_up("ours", 4, [ListChange(5, "theirs", KEY, Splice(2, 0, 1))], now=5)
    shift = bridge.shift("ours", KEY, Splice(2, 0, 1))
    assert shift is not None and shift.splice == Splice(3, 0, 1)
    bridge.commit("ours", [shift])
    server = _apply(_apply(["w", "x"], Splice(2, 0, 1), ["theirs"]), shift.splice, ["ours"])
    assert server == ["w", "x", "theirs", "ours"]


def test_the_unseen_splices_follow_the_clients_own() -> None:
    # The client made two splices before it saw the other's: the second is shifted past
    # the other's splice as it stands after the first, as the client will shift it.
    bridge = SpliceBridge()
    bridge.catch_up("ours", 0, [ListChange(1, "theirs", KEY, Splice(0, 0, 1))], now=1)
    first = bridge.shift("ours", KEY, Splice(0, 0, 1))
    assert first is not None
    bridge.commit("ours", [first])
    second = bridge.shift("ours", KEY, Splice(1, 0, 1))  # made on ["ours-1", "a"], after the first
    assert second is not None
    bridge.commit("ours", [second])
    server = _apply(["a"], Splice(0, 0, 1), ["theirs"])
    server = _apply(server, first.splice, ["ours-1"])
    server = _apply(server, second.splice, ["ours-2"])
    client = _apply(_apply(["a"], Splice(0, 0, 1), ["ours-1"]), Splice(1, 0, 1), ["ours-2"])
    # The client applies the other's splice shifted past both of its own.
    ((seq, theirs),) = bridge.unseen("ours", KEY)
    assert seq == 1
    assert _apply(client, theirs, ["theirs"]) == server


def test_what_the_client_had_seen_is_forgotten_and_own_splices_are_never_unseen() -> None:
    bridge = SpliceBridge()
    changes = [ListChange(3, "theirs", KEY, Splice(0, 0, 1)), ListChange(4, "ours", KEY, Splice(0, 0, 1))]
    bridge.catch_up("ours", 3, changes, now=4)
    assert bridge.upto("ours") == 4
    shift = bridge.shift("ours", KEY, Splice(0, 0, 1))
    assert shift is not None and shift.splice == Splice(0, 0, 1) and shift.unseen == []


def test_a_conflict_changes_nothing() -> None:
    bridge = SpliceBridge()
    bridge.catch_up("ours", 0, [ListChange(1, "theirs", KEY, Splice(1, 1, 0))], now=1)
    assert bridge.shift("ours", KEY, Splice(1, 1, 0)) is None  # both remove the same item
    assert bridge.unseen("ours", KEY) == [(1, Splice(1, 1, 0))]


def test_the_clients_kept_are_bounded_and_one_dropped_behind_is_reported() -> None:
    bridge = SpliceBridge(max_clients=2, max_unseen=3)
    bridge.catch_up("behind", 0, [ListChange(1, "theirs", KEY, Splice(0, 0, 1))], now=1)  # one unseen splice
    bridge.catch_up("caught_up", 1, [], now=1)
    bridge.catch_up("new", 1, [], now=1)  # the least recently active, "behind", goes
    assert bridge.dropped == ["behind"] and bridge.unseen("behind", KEY) == []
    bridge.dropped.clear()
    bridge.catch_up("third", 1, [], now=1)  # "caught_up" goes: it had nothing unseen, nothing to report
    assert bridge.dropped == [] and bridge.upto("caught_up") == 0


def test_a_client_too_far_behind_is_dropped_and_reported() -> None:
    bridge = SpliceBridge(max_clients=8, max_unseen=3)
    changes = [ListChange(seq, "theirs", KEY, Splice(0, 0, 1)) for seq in range(1, 5)]
    bridge.catch_up("far", 0, changes, now=4)  # four unseen: more than it may have
    assert bridge.dropped == ["far"] and bridge.unseen("far", KEY) == []
