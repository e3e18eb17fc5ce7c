"""Feature-flag definitions: OpenFeature's flagd files, Unleash exports, LaunchDarkly flag data (the file
data source and exports), and a plain `flags.yaml` kept in a repository.

- flagd: `{"flags": {"<key>": {"state", "variants", "defaultVariant", "targeting"}}}` (JSON or YAML).
- Unleash: `{"features": [{"name", "enabled", "variants": [{"name"}], "strategies"}]}` (the state export).
- LaunchDarkly: `{"flags": {"<key>": {"on", "variations", "fallthrough", "offVariation"}}}` and
  `{"flagValues": {"<key>": value}}`.
- Plain, only in files named for flags (`flags.yaml`, `feature-flags.json`, `features.yml`, ...):
  `flags:` (or `features:`) as a mapping of key to a value or to `{default, variants, description}`, or
  as a list of `{name|key, default}`.

Facts: `ops.flag` at the key token (attrs: format, variants, default, state).
"""

from __future__ import annotations

import re
from typing import Any

from indexers.model import Partial, Usage
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, basename, suffix
from indexers.sources.ops.doc import MAX_ITEMS, get, load_doc, mappings, plain, span, text
from indexers.sources.yaml.load import Loaded, Mapping, Pair, Scalar, Sequence, YNode

_FLAG_FILE = re.compile(r"(?:^|[._-])(?:feature[._-]?)?(?:flags?|toggles?|features)(?:[._-]|$)", re.I)
_SNIFF = re.compile(rb"\"?(?:flags|features|flagValues)\"?\s*:")
# Words a flag file of each format holds besides its top key: flagd's defaultVariant, LaunchDarkly's
# variations/flagValues, Unleash's strategies.
_FORMAT_WORDS = (b"defaultVariant", b"variations", b"flagValues", b"strategies")
MAX_VARIANTS = 20


def _variant_names(node: YNode | None) -> list[str]:
    if isinstance(node, Mapping):
        return list(node.entries)[:MAX_VARIANTS]
    if isinstance(node, Sequence):
        out = []
        for item in node.items[:MAX_VARIANTS]:
            name = text(get(item, "name")) or text(get(item, "value")) or text(item)
            if name is not None:
                out.append(name)
        return out
    return []


class FlagsExtractor(Extractor):
    name = "ops.flags"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) in (".yaml", ".yml", ".json") and "/node_modules/" not in f"/{path}"

    def extract(self, src: SourceFile) -> Partial:
        named = bool(_FLAG_FILE.search(basename(src.path).rsplit(".", 1)[0]))
        if not named and not any(w in src.data for w in _FORMAT_WORDS) or _SNIFF.search(src.data) is None:
            return Partial()
        loaded, errors = load_doc(src)
        if loaded is None:
            return Partial(errors=errors if named else [])
        out: list[Usage] = []
        for doc in loaded.documents:
            if isinstance(doc, Mapping):
                out += _document(src, loaded, doc, named)
        if not out:
            return Partial()
        return Partial(usages=out[:MAX_ITEMS], errors=errors)


def _flag(src: SourceFile, loaded: Loaded, key: YNode, name: str, attrs: dict[str, Any], block: YNode | None = None) -> Usage:
    if block is not None and block.end[0] > key.start[0]:
        attrs = {**attrs, "end_line": block.end[0]}
    return Usage(src.repo, src.path, span(loaded, key), "ops.flag", name, "", "provides", "", attrs)


def _document(src: SourceFile, loaded: Loaded, doc: Mapping, named: bool) -> list[Usage]:
    out: list[Usage] = []
    flags = doc.get("flags")
    if isinstance(flags, Mapping):
        for key, pair in list(flags.entries.items())[:MAX_ITEMS]:
            v = pair.value
            if isinstance(v, Mapping) and ("defaultVariant" in v.entries or {"state", "variants"} <= set(v.entries)):
                out.append(_flag(src, loaded, pair.key, key, {
                    "format": "flagd", "variants": _variant_names(v.get("variants")),
                    "default": plain(text(v.get("defaultVariant")) or ""), "state": plain(text(v.get("state")) or "")}, v))
            elif isinstance(v, Mapping) and ("variations" in v.entries or "fallthrough" in v.entries):
                out.append(_flag(src, loaded, pair.key, key, _launchdarkly(v), v))
            elif named:
                out += _plain(src, loaded, pair, key)
    elif isinstance(flags, Sequence) and named:
        for item in mappings(flags):
            key_node = item.get("name") or item.get("key")
            name = text(key_node)
            if name and key_node is not None:
                out.append(_flag(src, loaded, key_node, name, {
                    "format": "plain", "variants": _variant_names(item.get("variants")),
                    "default": plain(text(item.get("default")) or "")}))
    values = doc.get("flagValues")
    if isinstance(values, Mapping):
        for key, pair in list(values.entries.items())[:MAX_ITEMS]:
            out.append(_flag(src, loaded, pair.key, key, {"format": "launchdarkly", "variants": [],
                                                          "default": plain(text(pair.value) or "")}))
    features = doc.get("features")
    if isinstance(features, Sequence):
        for item in mappings(features):
            key_node = item.get("name")
            name = text(key_node)
            if not name or key_node is None or not ("strategies" in item.entries or "enabled" in item.entries
                                                     or "type" in item.entries or named):
                continue
            out.append(_flag(src, loaded, key_node, name, {
                "format": "unleash", "variants": _variant_names(item.get("variants")),
                "default": "", "state": plain(text(item.get("enabled")) or "")}))
    elif isinstance(features, Mapping) and named:
        for key, pair in list(features.entries.items())[:MAX_ITEMS]:
            out += _plain(src, loaded, pair, key)
    return out


def _launchdarkly(v: Mapping) -> dict[str, Any]:
    variations = v.get("variations")
    names = [text(x) or "" for x in (variations.items[:MAX_VARIANTS] if isinstance(variations, Sequence) else [])]
    default = ""
    idx = text(get(v, "fallthrough", "variation"))
    if idx is not None and idx.isdigit() and int(idx) < len(names):
        default = names[int(idx)]
    return {"format": "launchdarkly", "variants": names, "default": plain(default),
            "state": plain(text(v.get("on")) or "")}


def _plain(src: SourceFile, loaded: Loaded, pair: Pair, key: str) -> list[Usage]:
    v = pair.value
    if isinstance(v, Scalar):
        return [_flag(src, loaded, pair.key, key, {"format": "plain", "variants": [], "default": plain(text(v) or "")})]
    if isinstance(v, Mapping):
        default = text(v.get("default")) or text(v.get("defaultValue")) or text(v.get("value")) or ""
        return [_flag(src, loaded, pair.key, key, {"format": "plain", "variants": _variant_names(v.get("variants")),
                                                    "default": plain(default)})]
    return []


EXTRACTORS: list[Extractor] = [FlagsExtractor()]
