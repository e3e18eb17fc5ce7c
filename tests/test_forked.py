"""indexers.forked: work beside the caller in a child process, its JSON result handed back; anything
that goes wrong in the child makes the caller compute it itself."""

from __future__ import annotations

import os
import sys

import pytest

from indexers import forked

linux = pytest.mark.skipif(sys.platform != "linux", reason="forks only on Linux")


@linux
def test_the_work_runs_in_a_child_and_its_result_comes_back() -> None:
    parent = os.getpid()
    ran_here: list[int] = []

    def work() -> dict[str, object]:
        ran_here.append(1)  # in the child's copy of the list: the parent's stays empty
        return {"pid": os.getpid(), "files": [["repo", "a.py"]]}

    got = forked.start(work)
    assert ran_here == []
    value = got()
    assert value["pid"] != parent and value["files"] == [["repo", "a.py"]]
    assert got() is value and ran_here == []  # asked twice: the same answer, no second run


@linux
def test_a_child_that_fails_leaves_the_work_to_the_caller() -> None:
    parent = os.getpid()

    def work() -> str:
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        return "computed by the caller"

    assert forked.start(work)() == "computed by the caller"


@linux
def test_a_result_json_cannot_carry_is_computed_by_the_caller() -> None:
    parent = os.getpid()
    got = forked.start(lambda: {1, 2} if os.getpid() != parent else "inline")
    assert got() == "inline"


def test_an_error_of_the_work_reaches_the_caller() -> None:
    def work() -> None:
        raise ValueError("bad manifest")

    with pytest.raises(ValueError, match="bad manifest"):
        forked.start(work)()


def test_without_fork_the_work_runs_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked.sys, "platform", "darwin")
    calls: list[int] = []
    got = forked.start(lambda: calls.append(1) or len(calls))
    assert calls == []
    assert got() == 1 and got() == 1 and calls == [1]


@linux
def test_a_process_with_other_threads_does_not_fork() -> None:
    import threading

    parent = os.getpid()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        got = forked.start(os.getpid)
        assert got() == parent  # computed in the caller
    finally:
        stop.set()
        other.join()
    assert forked.start(os.getpid)() != parent
