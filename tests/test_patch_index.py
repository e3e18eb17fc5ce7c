"""`lore index` where a few files changed that declare what they declared before patches the saved run
(indexers.patch) instead of reading every file's facts back and linking the whole workspace again: what it
writes answers exactly what a full run answers (every line's context, the report, the next no-op run),
and every change a patch cannot carry (a changed declaration, a new or removed file, a moved HEAD) is a
full run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexers import summary
from indexers.engine import Engine
from indexers.store import Store
from indexers.workspace import discover
from tests.test_context_cache import _answers
from tests.test_noop_index import CountingStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def shop(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(target)], check=True, capture_output=True)
    return target


def _plain(report: Any) -> dict[str, Any]:
    doc = report.as_json()
    doc.pop("seconds")
    doc.pop("timings")
    return doc


def _patch_or_full(root: Path, cache: Path) -> tuple[Any, Any, list[str]]:
    """(the patched run's report or None, a full run's report on a copy of the cache as it was, the
    record kinds the patch read)."""
    copy = cache.parent / (cache.name + "-full")
    shutil.rmtree(copy, ignore_errors=True)
    # copied by another process: closing a descriptor of an open SQLite file in this one would drop the
    # locks this process's connections hold on it
    subprocess.run(["cp", "-a", str(cache), str(copy)], check=True)
    store = CountingStore(cache)
    patched = Engine(discover(root), store, save=True).patch_saved()
    _snap, full = Engine(discover(root), Store(copy), save=True).refresh()
    return patched, full, store.read


def _prepend(path: Path, line: str) -> None:
    path.write_text(line + path.read_text())


def _insert_after(path: Path, marker: str, line: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, text in enumerate(lines) if marker in text) + 1
    path.write_text("".join(lines[:at] + [line] + lines[at:]))


def test_a_code_edit_patches_the_saved_run_and_answers_what_a_full_run_answers(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Engine(discover(shop), Store(cache), save=True).refresh()
    asked = Engine(discover(shop), Store(cache))
    first = asked.saved_snapshot()
    assert first is not None
    first.history.service_pairs(first)  # a query computed the services that change together: kept for the run
    asked.keep_derived(first)
    # lines shift under most of 39 links (below the registration other files' links cite), and a marker
    # appears beside the existing one; the other file is Python, shifted whole
    _insert_after(shop / "cart-service/internal/server/cart.go", "GetCart(", "\t// TODO(SHOP-9): one round trip\n")
    _prepend(shop / "checkout-service/checkout/cart_client.py", "# moved down one line\n")
    patched, full, read = _patch_or_full(shop, cache)
    assert patched is not None
    assert read.count("f") <= 4  # the changed files' facts before, and nothing else
    assert _plain(patched) == _plain(full)
    assert patched.indexed == 2 and patched.facts["link"] == 58
    ws = discover(shop)
    saved = Engine(ws, Store(cache)).saved_snapshot()
    built = Engine(ws, Store(tmp_path / "cold"), save=True).refresh()[0]
    assert saved is not None
    assert saved.history._service_pairs  # carried to the patched run: its first query does not recompute them
    assert _answers(saved, shop) == _answers(built, shop)
    assert summary.unchanged(ws, Store(cache)) is not None  # the next run is a no-op from the patched summary
    # and the CLI takes the same path: another edit, then the context it answers is fresh
    target = shop / "cart-service/internal/server/cart.go"
    _insert_after(target, "AddItem(", "\t// and again\n")
    env = dict(os.environ, LORE_CACHE=str(cache))
    out = subprocess.run([sys.executable, "-m", "lore", "-v", "index", str(shop), "--json"], capture_output=True, text=True,
                         check=True, env=env, timeout=120)
    assert json.loads(out.stdout)["files"]["indexed"] == 1
    assert "the last run patched" in out.stderr
    line = next(i for i, text in enumerate(target.read_text().splitlines()) if "CartService" in text) + 1
    doc = json.loads(subprocess.run([sys.executable, "-m", "lore", "context", f"{target}:{line}", "--json"],
                                    capture_output=True, text=True, check=True, env=env, timeout=120).stdout)
    assert doc["stale"] is False
    built = Engine(ws, Store(tmp_path / "cold2"), save=True).refresh()[0]
    saved = Engine(ws, Store(cache)).saved_snapshot()
    assert saved is not None and _answers(saved, shop) == _answers(built, shop)


def test_a_comment_in_a_contract_patches_and_a_changed_declaration_does_not(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Engine(discover(shop), Store(cache), save=True).refresh()
    proto = next((shop / "contracts").rglob("*.proto"))
    proto.write_text(proto.read_text() + "\n// a comment after every declaration\n")
    patched, full, _read = _patch_or_full(shop, cache)
    assert patched is not None and _plain(patched) == _plain(full)
    text = proto.read_text()
    proto.write_text(text.replace("message ", "message Renamed", 1))
    patched, _full, _read = _patch_or_full(shop, cache)
    assert patched is None  # a declaration changed: a full run


@pytest.mark.parametrize("change", ["new file", "removed file", "new commit", "usages appear", "a marker appears"])
def test_changes_a_patch_cannot_carry_take_a_full_run(change: str, shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Engine(discover(shop), Store(cache), save=True).refresh()
    repo = shop / "checkout-service"
    if change == "new file":
        (repo / "checkout" / "extra.py").write_text("x = 1\n")
    elif change == "removed file":
        (repo / "checkout" / "cart_client.py").unlink()
    elif change == "new commit":
        (repo / "checkout" / "cart_client.py").write_text((repo / "checkout" / "cart_client.py").read_text() + "# more\n")
        subprocess.run(["git", "-C", str(repo), "commit", "-qam", "docs"], check=True, capture_output=True,
                       env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
                                GIT_COMMITTER_EMAIL="t@e"))
    elif change == "usages appear":  # a file without usages gets one
        target = repo / "checkout" / "orders.py"
        target.write_text(target.read_text() + "\nimport requests\nrequests.get('http://cart/cart')\n")
    else:  # a file without markers gets one
        target = repo / "checkout" / "cart_client.py"
        target.write_text(target.read_text() + "\n# TODO(SHOP-1): retry budget\n")
    patched, full, _read = _patch_or_full(shop, cache)
    assert patched is None
    assert full.indexed + len(full.failed) >= 0  # the full run went through
    ws = discover(shop)
    saved = Engine(ws, Store(cache.parent / (cache.name + "-full"))).saved_snapshot()
    built = Engine(ws, Store(tmp_path / "cold"), save=True).refresh()[0]
    assert saved is not None and _answers(saved, shop) == _answers(built, shop)


def test_operational_usages_and_errors_follow_a_patch(tmp_path: Path) -> None:
    """Metrics, spans, flag evaluations and routes move with an edit (the ops index the answers read is
    rebuilt from the patched records); a file that starts failing is reported as a full run reports it."""
    from tests import ops_system

    root = tmp_path / "ops"
    ops_system.build(root)
    cache = tmp_path / "cache"
    Engine(discover(root), Store(cache), save=True).refresh()
    _prepend(root / "checkout/app/api.py", "# routes of the orders API\n\n")
    _insert_after(root / "cart/server/server.go", "package ", "\n// the cart's HTTP server\n")
    patched, full, _read = _patch_or_full(root, cache)
    assert patched is not None and _plain(patched) == _plain(full)
    ws = discover(root)
    saved = Engine(ws, Store(cache)).saved_snapshot()
    built = Engine(ws, Store(tmp_path / "cold"), save=True).refresh()[0]
    assert saved is not None and _answers(saved, root) == _answers(built, root)
    ops = [n for sec in _answers(saved, root).values() for s in sec["sections"] if s["name"] == "ops" for n in s["notes"]]
    assert ops  # the answers compared hold operational notes
    rules = root / "observability/rules/shop-alerts.yaml"  # one alert's query stops parsing; the others still read
    rules.write_text(rules.read_text().replace('expr: up{job="node"} == 0', 'expr: up{job="node" == 0'))
    patched, full, _read = _patch_or_full(root, cache)
    assert patched is not None and _plain(patched) == _plain(full)
    assert [f["path"] for f in patched.failed] == ["rules/shop-alerts.yaml"]
    saved = Engine(ws, Store(cache)).saved_snapshot()
    built = Engine(ws, Store(tmp_path / "cold2"), save=True).refresh()[0]
    assert saved is not None and _answers(saved, root) == _answers(built, root)
    assert [e.path for e in saved.errors] == [e.path for e in built.errors] == ["rules/shop-alerts.yaml"]


def test_a_run_by_another_process_since_the_saved_one_is_not_patched(shop: Path, tmp_path: Path) -> None:
    """The server indexes into the same cache without saving query records: its manifests then describe
    files the saved run never read, and the next `lore index` must not patch that run as if current."""
    cache = tmp_path / "cache"
    Engine(discover(shop), Store(cache), save=True).refresh()
    target = shop / "checkout-service/checkout/cart_client.py"
    _prepend(target, "# moved down one line\n")
    Engine(discover(shop), Store(cache)).refresh()  # as the server does: manifests and facts, no summary
    for planned in ([], None):
        if planned is not None:
            assert summary.unchanged(discover(shop), Store(cache), planned) is None and planned == []
        assert Engine(discover(shop), Store(cache), save=True).patch_saved(planned[0] if planned else None) is None
    Engine(discover(shop), Store(cache), save=True).refresh()
    ws = discover(shop)
    saved = Engine(ws, Store(cache)).saved_snapshot()
    built = Engine(ws, Store(tmp_path / "cold"), save=True).refresh()[0]
    assert saved is not None and _answers(saved, shop) == _answers(built, shop)
