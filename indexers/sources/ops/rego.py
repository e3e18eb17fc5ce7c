"""OPA/Rego policies that name routes: which HTTP paths an authorization policy speaks about.

Rego is read line by line for the shapes policies use to match a request path: `input...path ==
"/admin/users"` (either side), `input...path == ["admin", "users", id]` (a parsed path; variables are
parameters), `glob.match("/api/admin/*", ...)` and `startswith(input...path, "/admin/")`. The package and
the rule the match sits in are kept. Facts: `ops.policy` at the path literal (attrs: match = exact, glob
or prefix; pattern; package; rule).
"""

from __future__ import annotations

import re

from indexers.model import Partial, Usage
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, suffix

MAX_BYTES = 1024 * 1024
MAX_POLICIES = 500
_PACKAGE = re.compile(r"^package\s+([\w.]+)")
_RULE = re.compile(r"^([A-Za-z_]\w*)\b(?:\s*(?:if|contains|\[|:=|=|\{)|\s*$)")
# at most 8 steps of at most 64 characters: a long `input.input.…` is not re-read from every `input` (linear)
_INPUT_PATH = r"input(?:\.\w{1,64}|\[\"\w{1,64}\"\]){0,8}\.(?:path|parsed_path|url_path|request_path)"
_EXACT = re.compile(rf"{_INPUT_PATH}\s*==\s*\"(/[^\"]*)\"|\"(/[^\"]*)\"\s*==\s*{_INPUT_PATH}")
_ARRAY = re.compile(rf"{_INPUT_PATH}\s*==\s*\[([^\]]*)\]")
_GLOB = re.compile(r"glob\.match\(\s*\"(/[^\"]*)\"")
_PREFIX = re.compile(rf"startswith\(\s*{_INPUT_PATH}\s*,\s*\"(/[^\"]*)\"\s*\)")


def _array_path(items: str) -> str | None:
    segs = []
    for raw in items.split(","):
        item = raw.strip()
        if not item:
            continue
        if item.startswith('"') and item.endswith('"') and len(item) >= 2:
            segs.append(item[1:-1])
        elif re.fullmatch(r"[A-Za-z_]\w*", item):
            segs.append("{" + item + "}")
        else:
            return None
    return "/" + "/".join(segs) if segs else None


class RegoExtractor(Extractor):
    name = "ops.rego"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) == ".rego" and not path.endswith("_test.rego")

    def extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES or b"input" not in src.data:
            return Partial()
        package, rule = "", ""
        out: list[Usage] = []
        for row, line in enumerate(src.lines):
            code = line.split("#", 1)[0]
            if m := _PACKAGE.match(code):
                package = m.group(1)
                continue
            if m := _RULE.match(code):
                rule = m.group(1)
            found: list[tuple[int, int, str, str]] = []
            for m in _EXACT.finditer(code):
                g = 1 if m.group(1) is not None else 2
                found.append((m.start(g), m.end(g), "exact", m.group(g)))
            for m in _ARRAY.finditer(code):
                path = _array_path(m.group(1))
                if path is not None:
                    found.append((m.start(1), m.end(1), "exact", path))
            for m in _GLOB.finditer(code):
                found.append((m.start(1), m.end(1), "glob", m.group(1)))
            for m in _PREFIX.finditer(code):
                found.append((m.start(1), m.end(1), "prefix", m.group(1)))
            for start, end, match, pattern in found:
                if len(out) >= MAX_POLICIES:
                    break
                out.append(Usage(src.repo, src.path, src.span_from_chars(row, start, row, end), "ops.policy", pattern,
                                 package, "", "rego", {"match": match, "pattern": pattern, "package": package, "rule": rule}))
        return Partial(usages=out)


EXTRACTORS: list[Extractor] = [RegoExtractor()]
