"""Problems (lore.query.diagnostics) on a real Snapshot of the small three-repo system: deprecated
contract use, calls into services the catalog does not declare, and edits of lines last touched by a
workaround/hotfix/revert commit (through the `snap.history.flagged_lines` interface)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from indexers.engine import Engine
from indexers.extract import extract_file
from indexers.snapshot import Snapshot, build
from indexers.store import Store
from indexers.workspace import discover
from lore.query import diagnostics
from tests.test_lsp_server import BILLING_CATALOG, BILLING_PY, CANCEL_CALL, GET_ORDER_CALL, build_system


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    root = tmp_path_factory.mktemp("diag")
    paths = build_system(root / "sys")
    snapshot, _report = Engine(discover(paths["root"]), Store(root / "cache"), jobs=1).refresh()
    return snapshot


def with_files(snap: Snapshot, files: dict[tuple[str, str], str | None]) -> Snapshot:
    """A fresh Snapshot (services re-derived) with some files replaced (text) or removed (None)."""
    out = [ff for key, ff in snap.files.items() if key not in files]
    out += [extract_file(repo, path, text.encode()) for (repo, path), text in files.items() if text is not None]
    return build(snap.repos, out, commits=snap.commits, history=snap.history)


def codes(problems: list[diagnostics.Problem]) -> list[tuple[str, int]]:
    return [(p.code, p.range.start_line) for p in problems]


def test_deprecated_and_undeclared(snap: Snapshot):
    found = diagnostics.problems(snap, "billing", "billing.py")
    assert ("deprecated-use", CANCEL_CALL[0]) in codes(found)
    assert ("undeclared-dependency", GET_ORDER_CALL[0]) in codes(found)
    dep = next(p for p in found if p.code == "deprecated-use")
    assert dep.severity == "warning" and dep.related[0].location.repo == "contracts"
    und = next(p for p in found if p.code == "undeclared-dependency" and p.range.start_line == GET_ORDER_CALL[0])
    assert und.data["key"] == "consumesApis" and und.data["value"] == "orders-api"
    assert und.data["catalog_path"] == "catalog-info.yaml" and und.data["service"] == "billing"
    assert {(r.location.repo, r.location.path) for r in und.related} == {("orders", "server.py"), ("billing", "catalog-info.yaml")}
    # the provider side has nothing to say
    assert diagnostics.problems(snap, "orders", "server.py") == []


@pytest.mark.parametrize("addition", [
    "  consumesApis:\n    - orders-api\n",
    "  consumesApis: [api:default/Orders-API]\n",  # refs are case-insensitive and may be qualified
])
def test_declared_api_consumption_silences(snap: Snapshot, addition: str):
    fixed = with_files(snap, {("billing", "catalog-info.yaml"): BILLING_CATALOG + addition})
    assert "undeclared-dependency" not in {p.code for p in diagnostics.problems(fixed, "billing", "billing.py")}


def test_depends_on_provider_silences(snap: Snapshot):
    text = BILLING_CATALOG.replace("    - component:payments\n", "    - component:payments\n    - orders\n")
    fixed = with_files(snap, {("billing", "catalog-info.yaml"): text})
    assert "undeclared-dependency" not in {p.code for p in diagnostics.problems(fixed, "billing", "billing.py")}


def test_without_catalog_or_provider_nothing_is_missing(snap: Snapshot):
    no_catalog = with_files(snap, {("billing", "catalog-info.yaml"): None})
    assert "undeclared-dependency" not in {p.code for p in diagnostics.problems(no_catalog, "billing", "billing.py")}
    no_provider = with_files(snap, {("orders", "server.py"): None})
    assert "undeclared-dependency" not in {p.code for p in diagnostics.problems(no_provider, "billing", "billing.py")}
    undeclared_api = with_files(snap, {("orders", "catalog-info.yaml"): "kind: Component\nmetadata:\n  name: orders\nspec:\n  owner: x\n"})
    und = [p for p in diagnostics.problems(undeclared_api, "billing", "billing.py") if p.code == "undeclared-dependency"]
    assert und and und[0].data["key"] == "dependsOn" and und[0].data["value"] == "component:orders"


def test_not_deprecated_is_quiet(snap: Snapshot):
    text = BILLING_PY.replace("    stub.CancelOrder(orders_pb2.CancelOrderRequest(id=order_id))\n", "")
    edited = with_files(snap, {("billing", "billing.py"): text})
    assert "deprecated-use" not in {p.code for p in diagnostics.problems(edited, "billing", "billing.py")}


# -- history -----------------------------------------------------------------------------------------

class FakeHistory:
    """The interface the history layer provides: flagged_lines(repo, path) -> records at HEAD."""

    def __init__(self, flagged: list[Any]):
        self.flagged = flagged

    def flagged_lines(self, repo: str, path: str) -> list[Any]:
        return self.flagged if (repo, path) == ("billing", "billing.py") else []


WORKAROUND = SimpleNamespace(line=5, sha="a" * 40, kinds=("workaround",), subject="work around orders DNS", refs=("#12",))
REVERT = SimpleNamespace(line=8, sha="b" * 40, kinds=("revert", "hotfix"), subject='Revert "cancel early"', refs=())
HEAD = BILLING_PY.split("\n")


def history_problems(snap: Snapshot, history: Any, buffer: list[str]) -> list[tuple[str, int]]:
    s = dataclasses.replace(snap, history=history)
    found = diagnostics.problems(s, "billing", "billing.py", head_lines=HEAD, buffer_lines=buffer)
    return [c for c in codes(found) if c[0].startswith("edits-")]


def test_editing_a_workaround_line(snap: Snapshot):
    buf = list(HEAD)
    buf[5] = buf[5].replace("50051", "50052")
    assert history_problems(snap, FakeHistory([WORKAROUND, REVERT]), buf) == [("edits-workaround", 5)]


def test_deleting_a_revert_line_after_an_insertion(snap: Snapshot):
    buf = ["# new comment"] + HEAD[:8] + HEAD[9:]  # line 8 of HEAD deleted; everything shifted by one
    s = dataclasses.replace(snap, history=FakeHistory([WORKAROUND, REVERT]))
    found = [p for p in diagnostics.problems(s, "billing", "billing.py", head_lines=HEAD, buffer_lines=buf)
             if p.code.startswith("edits-")]
    assert [(p.code, p.range.start_line) for p in found] == [("edits-revert", 9)]
    assert "deletes" in found[0].message and found[0].data["sha"] == "b" * 40


@pytest.mark.parametrize("history", [None, object(), FakeHistory([])])
def test_history_absent_or_silent(snap: Snapshot, history: Any):
    buf = list(HEAD)
    buf[5] = "changed"
    assert history_problems(snap, history, buf) == []


def test_unchanged_or_untouched_lines_are_quiet(snap: Snapshot):
    hist = FakeHistory([WORKAROUND, REVERT])
    assert history_problems(snap, hist, list(HEAD)) == []
    buf = list(HEAD)
    buf[0] = "import grpc  # touched elsewhere"
    assert history_problems(snap, hist, buf) == []


def test_failing_history_does_not_break_other_checks(snap: Snapshot):
    class Broken:
        def flagged_lines(self, repo: str, path: str) -> list[Any]:
            raise RuntimeError("blame failed")

    s = dataclasses.replace(snap, history=Broken())
    buf = list(HEAD)
    buf[5] = "x"
    found = diagnostics.problems(s, "billing", "billing.py", head_lines=HEAD, buffer_lines=buf)
    assert "deprecated-use" in {p.code for p in found} and not any(p.code.startswith("edits-") for p in found)


@pytest.mark.parametrize("head,buf,expected", [
    (["a", "b", "c"], ["a", "b", "c"], {}),
    (["a", "b", "c"], ["a", "B", "c"], {1: (1, False)}),
    (["a", "b", "c"], ["a", "c"], {1: (1, True)}),
    (["a", "b", "c"], ["x", "a", "b", "c"], {}),
    (["a", "b", "c"], ["a", "b"], {2: (1, True)}),
    (["a", "b", "c", "d"], ["a", "X", "d"], {1: (1, False), 2: (1, False)}),
])
def test_changed_head_lines(head: list[str], buf: list[str], expected: dict[int, tuple[int, bool]]):
    assert diagnostics.changed_head_lines(head, buf) == expected
