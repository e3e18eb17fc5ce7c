"""indexers.forked: work beside the caller in a child process, its JSON result handed back; anything
that goes wrong in the child makes the caller compute it itself. A process with other threads never
forks. The forking cases run in a fresh interpreter (single-threaded, as a `lore` command is: the test
session itself has threads left by other tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from indexers import forked

ROOT = Path(__file__).resolve().parents[1]
linux = pytest.mark.skipif(sys.platform != "linux", reason="forks only on Linux")


def fresh(code: str) -> Any:
    """What `code` (run in a new interpreter, `forked` imported) prints as JSON on its last line."""
    prelude = "import json, os, threading\nfrom indexers import forked\nparent = os.getpid()\n"
    out = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@linux
def test_the_work_runs_in_a_child_and_its_result_comes_back() -> None:
    got = fresh("""
        ran_here = []
        def work():
            ran_here.append(1)  # in the child's copy of the list: the parent's stays empty
            return {"pid": os.getpid(), "files": [["repo", "a.py"]]}
        result = forked.start(work)
        before = list(ran_here)
        value = result()
        print(json.dumps({"before": before, "after": ran_here, "child": value["pid"] != parent,
                          "files": value["files"], "same": result() is value}))
    """)
    assert got == {"before": [], "after": [], "child": True, "files": [["repo", "a.py"]], "same": True}


@linux
def test_a_child_that_fails_leaves_the_work_to_the_caller() -> None:
    got = fresh("""
        def work():
            if os.getpid() != parent:
                raise RuntimeError("only in the child")
            return "computed by the caller"
        print(json.dumps(forked.start(work)()))
    """)
    assert got == "computed by the caller"


@linux
def test_a_result_json_cannot_carry_is_computed_by_the_caller() -> None:
    got = fresh("""
        print(json.dumps(forked.start(lambda: {1, 2} if os.getpid() != parent else "inline")()))
    """)
    assert got == "inline"


@linux
def test_a_process_with_other_threads_does_not_fork() -> None:
    got = fresh("""
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        with_thread = forked.start(os.getpid)() == parent  # computed in the caller
        stop.set()
        other.join()
        alone = forked.start(os.getpid)() != parent
        print(json.dumps([with_thread, alone]))
    """)
    assert got == [True, True]


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
    assert os.getpid()  # the caller's own process did the work
