# lsprotocol results are Optional unions everywhere; the assertions below are the narrowing.
# mypy: disable-error-code="union-attr,index"
"""The server's pure parts without a client: settings, the catalog-info.yaml edit, conversions, and the
code-action feature function over a real Snapshot."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest
from lsprotocol import types as t
from ruamel.yaml import YAML

from indexers.engine import Engine
from indexers.snapshot import Snapshot
from indexers.store import Store
from indexers.workspace import discover
from lsp_server import convert, settings
from lsp_server.features import catalog_edit, code_actions, hover
from lsp_server.state import Doc
from tests.test_lsp_server import BILLING_PY, GET_ORDER_CALL, build_system

# -- settings ----------------------------------------------------------------------------------------


def test_settings_defaults_and_camel_case():
    s, problems = settings.parse({"repos": ["a", "b"], "cacheDir": "/tmp/c", "maxHoverNotes": 3, "logLevel": "DEBUG",
                                  "features": {"codeLens": False}})
    assert problems == []
    assert s.repos == ("a", "b") and s.cache_dir == "/tmp/c" and s.max_hover_notes == 3 and s.log_level == "debug"
    assert s.features.code_lens is False and s.features.hover is True
    assert settings.parse(None) == (settings.Settings(), [])
    assert settings.parse({"lore": {"maxHoverNotes": 4}})[0].max_hover_notes == 4


@pytest.mark.parametrize("raw,field", [
    ({"maxHoverNotes": 0}, "maxHoverNotes"),
    ({"maxHoverNotes": "5"}, "maxHoverNotes"),
    ({"maxHoverNotes": True}, "maxHoverNotes"),
    ({"logLevel": "loud"}, "logLevel"),
    ({"repos": [1]}, "repos"),
    ({"cacheDir": ""}, "cacheDir"),
    ({"features": {"hover": "yes"}}, "features.hover"),
    ({"features": {"teleport": True}}, "features.teleport"),
    ({"features": []}, "features"),
])
def test_invalid_settings_fall_back_with_a_message(raw: dict, field: str):
    s, problems = settings.parse(raw)
    assert len(problems) == 1 and f"lore.{field}" in problems[0]
    defaults = settings.Settings()
    assert (s.max_hover_notes, s.log_level, s.repos, s.cache_dir, s.features) == (
        defaults.max_hover_notes, defaults.log_level, defaults.repos, defaults.cache_dir, defaults.features)


def test_unknown_keys_are_ignored_and_configuration_wins():
    s, problems = settings.parse({"trace": {"server": "off"}, "serverPath": "x", "maxHoverNotes": 2})
    assert problems == [] and s.max_hover_notes == 2
    both = settings.merged({"maxHoverNotes": 2, "features": {"hover": False, "codeLens": False}},
                           {"maxHoverNotes": 5, "features": {"hover": True}})
    assert both == {"maxHoverNotes": 5, "features": {"hover": True, "codeLens": False}}
    assert settings.merged({"a": 1}, None) == {"a": 1} and settings.merged(None, {}) is None


def test_plain_undoes_namedtuples():
    Pos = namedtuple("Pos", ["line", "character"])
    Params = namedtuple("Params", ["textDocument", "position", "tags"])
    assert settings.plain(Params({"uri": "file:///x"}, Pos(1, 2), (Pos(0, 0),))) == {
        "textDocument": {"uri": "file:///x"}, "position": {"line": 1, "character": 2}, "tags": [{"line": 0, "character": 0}]}


# -- catalog-info.yaml edit ----------------------------------------------------------------------------

BASE = """# catalog
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
spec:
  owner: team-billing  # who to page
{tail}"""

CASES = {
    "append-block": ("  dependsOn:\n    - component:payments   # keep me\n  lifecycle: production\n", "dependsOn", "component:orders",
                     "  dependsOn:\n    - component:payments   # keep me\n    - component:orders\n  lifecycle: production\n"),
    "append-indentless": ("  dependsOn:\n  - component:payments\n", "dependsOn", "component:orders",
                          "  dependsOn:\n  - component:payments\n  - component:orders\n"),
    "append-at-eof": ("  consumesApis:\n    - a-api", "consumesApis", "orders-api", "  consumesApis:\n    - a-api\n    - orders-api"),
    "flow": ("  consumesApis: [a-api]\n", "consumesApis", "orders-api", "  consumesApis: [a-api, orders-api]\n"),
    "flow-empty": ("  consumesApis: []\n", "consumesApis", "orders-api", "  consumesApis: [orders-api]\n"),
    "missing-key": ("  lifecycle: production\n", "consumesApis", "orders-api",
                    "  lifecycle: production\n  consumesApis:\n    - orders-api\n"),
    "null-value": ("  dependsOn:\n  lifecycle: production\n", "dependsOn", "component:orders",
                   "  dependsOn:\n    - component:orders\n  lifecycle: production\n"),
    "quoted": ("  dependsOn: []\n", "dependsOn", "component:default/odd name", '  dependsOn: ["component:default/odd name"]\n'),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_catalog_insertion(case: str):
    tail, key, value, expected = CASES[case]
    text = BASE.format(tail=tail)
    ins = catalog_edit.insertion(text, "billing", key, value)
    assert ins is not None
    after = catalog_edit.apply(text, ins)
    assert after == BASE.format(tail=expected)
    assert value in YAML(typ="safe").load(after)["spec"][key]


@pytest.mark.parametrize("text,service,key", [
    (BASE.format(tail="  dependsOn:\n    - component:orders\n"), "billing", "dependsOn"),  # already there
    (BASE.format(tail=""), "payments", "dependsOn"),  # another component
    (BASE.format(tail="  dependsOn: component:x\n"), "billing", "dependsOn"),  # a scalar: not ours to rewrite
    ("kind: Component\nmetadata:\n  name: billing\n", "billing", "dependsOn"),  # no spec
    ("kind: Component\nmetadata: {name: billing}\nspec: {owner: x}\n", "billing", "dependsOn"),  # flow spec
    ("kind: [unclosed\n", "billing", "dependsOn"),
    (BASE.format(tail=""), "billing", "providesApis"),  # only the two dependency keys
])
def test_catalog_insertion_refused(text: str, service: str, key: str):
    assert catalog_edit.insertion(text, service, key, "component:orders") is None


def test_catalog_insertion_picks_the_right_document():
    text = ("kind: API\nmetadata:\n  name: billing\nspec:\n  type: grpc\n---\n"
            "kind: Component\nmetadata:\n  name: billing\nspec:\n  owner: x\n  dependsOn:\n    - a\n")
    ins = catalog_edit.insertion(text, "billing", "dependsOn", "b")
    assert ins is not None
    after = catalog_edit.apply(text, ins)
    docs = list(YAML(typ="safe").load_all(after))
    assert docs[1]["spec"]["dependsOn"] == ["a", "b"] and "dependsOn" not in docs[0]["spec"]


def test_catalog_insertion_columns_are_utf16():
    text = "kind: Component\nmetadata:\n  name: billing\nspec:\n  title: 🚀\n  consumesApis: [🚀-api]\n"
    ins = catalog_edit.insertion(text, "billing", "consumesApis", "b")
    assert ins is not None and ins.col == len("  consumesApis: [🚀-api".encode("utf-16-le")) // 2
    assert "[🚀-api, b]" in catalog_edit.apply(text, ins)


# -- conversions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("uri,path", [
    ("file:///tmp/a%20b/c.py", "/tmp/a b/c.py"),
    ("file://localhost/x.py", "/x.py"),
    ("untitled:Untitled-1", None),
    ("https://example.com/x.py", None),
    ("file://otherhost/x.py", None),
    ("not a uri", None),
])
def test_uri_to_path(uri: str, path: str | None):
    got = convert.uri_to_path(uri)
    assert (str(got) if got else None) == path


def test_clamp():
    assert convert.clamp(99, 99, ["ab", "héllo"]) == (1, 5)
    assert convert.clamp(0, 99, ["a😀"]) == (0, 3)
    assert convert.clamp(-3, -1, None) == (0, 0)
    assert convert.clamp(5, 5, []) == (0, 0)


# -- feature functions over a real snapshot -------------------------------------------------------------

@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, dict[str, Path]]:
    root = tmp_path_factory.mktemp("units")
    paths = build_system(root / "sys")
    snapshot, _report = Engine(discover(paths["root"]), Store(root / "cache"), jobs=1).refresh()
    return snapshot, paths


def test_code_actions_carry_commands_and_the_fix(system: tuple[Snapshot, dict[str, Path]]):
    snap, paths = system
    doc = Doc(paths["billing"].as_uri(), paths["billing"], 1, BILLING_PY)
    pos = t.Position(*GET_ORDER_CALL)
    actions = code_actions.code_actions(snap, doc, t.Range(pos, pos))
    by_command = {a.command.command: a for a in actions if a.command}
    assert by_command["lore.showConsumers"].command.arguments == [doc.uri, *GET_ORDER_CALL, "proto:orders.v1.OrderService.GetOrder", "provides"]
    assert "lore.showHistory" not in by_command  # routine history: no reason to offer it
    assert by_command["lore.copyContext"].kind == t.CodeActionKind.Empty
    assert by_command["lore.showConsumers"].title == "Lore: show 1 provider of proto:orders.v1.OrderService.GetOrder"
    fix = next(a for a in actions if a.kind == t.CodeActionKind.QuickFix)
    (uri, edits), = fix.edit.changes.items()
    assert uri == paths["catalog"].as_uri() and "- orders-api" in edits[0].new_text
    # an open, unsaved catalog buffer is what gets edited
    buffer = paths["catalog"].read_text() + "  consumesApis: [x-api]\n"
    fix2 = next(a for a in code_actions.code_actions(snap, doc, t.Range(pos, pos), {uri: buffer}) if a.kind == t.CodeActionKind.QuickFix)
    assert fix2.edit.changes[uri][0].new_text == ", orders-api"
    # no fix away from the call
    far = t.Position(0, 0)
    assert not [a for a in code_actions.code_actions(snap, doc, t.Range(far, far)) if a.kind == t.CodeActionKind.QuickFix]


def test_hover_respects_max_notes_and_escapes(system: tuple[Snapshot, dict[str, Path]]):
    snap, paths = system
    proto = paths["proto"]
    doc = Doc(proto.as_uri(), proto)
    full = hover.hover(snap, doc, t.Position(4, 8), settings.Settings())
    short = hover.hover(snap, doc, t.Position(4, 8), settings.Settings(max_hover_notes=1))
    assert full is not None and short is not None
    # the cap is per section: every section keeps its line, a long one says how many it left out
    assert short.contents.value.count("\n- ") == full.contents.value.count("\n- ")
    assert len(short.contents.value) <= len(full.contents.value)
    assert hover.hover(snap, Doc("untitled:x", None), t.Position(0, 0), settings.Settings()) is None
