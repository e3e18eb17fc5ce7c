"""Service evidence from module manifests: go.mod, package.json, pyproject.toml, setup.cfg, pom.xml,
Gradle builds and settings, .csproj and Cargo.toml. A manifest names a module and its root folder; the
name becomes a service only when nothing stronger (catalog, compose, ...) names that root.

TOML is parsed with tomllib, XML through a guard that refuses DOCTYPE/ENTITY declarations (no entity
expansion), and everything else line by line; a file that does not parse is a `FileError`.
"""

from __future__ import annotations

import re

from indexers.model import FileError, Partial, ServiceDecl, Span
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, basename
from indexers.sources.systems.service_yaml import MAX_BYTES, folder, skipped

# -- module manifests -------------------------------------------------------------------------------

MODULE_FILES = {"go.mod": "go", "package.json": "npm", "pyproject.toml": "pyproject", "setup.cfg": "setupcfg",
                "pom.xml": "maven", "build.gradle": "gradle", "build.gradle.kts": "gradle",
                "settings.gradle": "gradle-settings", "settings.gradle.kts": "gradle-settings", "Cargo.toml": "cargo"}
_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)")
_DOCTYPE = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.I)


def module_kind(base: str) -> str | None:
    if base in MODULE_FILES:
        return MODULE_FILES[base]
    return "csproj" if base.endswith(".csproj") and len(base) > len(".csproj") else None


def key_line(src: SourceFile, key: str, value: str, after: int = 0) -> Span:
    """The span of `value` on the first line at or after `after` that mentions `key` and `value`."""
    for n in range(after, len(src.lines)):
        line = src.lines[n]
        if key in line and (col := line.find(value, line.find(key) + len(key))) >= 0:
            return src.span_from_chars(n, col, n, col + len(value))
    return Span.line(0)


def toml_table(src: SourceFile, tables: list[str]) -> tuple[dict[str, object] | None, FileError | None]:
    import tomllib

    try:
        data = tomllib.loads(src.text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        line = int(m.group(1)) - 1 if m else max(len(src.lines) - 1, 0)
        return None, FileError(src.repo, src.path, f"invalid TOML: {_TOML_POS.sub('', str(exc)).strip()}", line)
    except RecursionError:
        return None, FileError(src.repo, src.path, "invalid TOML: nesting too deep")
    for dotted in tables:
        node: object = data
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get("name"), str):
            return node, None
    return None, None


def safe_xml(src: SourceFile) -> tuple[object | None, FileError | None]:
    """Parse XML with no DTD at all: DOCTYPE or ENTITY declarations are refused, not expanded."""
    import xml.etree.ElementTree as ET

    if m := _DOCTYPE.search(src.text):
        line = src.text.count("\n", 0, m.start())
        return None, FileError(src.repo, src.path, "DOCTYPE/ENTITY declarations are not allowed", line)
    try:
        return ET.fromstring(src.text), None
    except ET.ParseError as exc:
        at = exc.position[0] - 1 if getattr(exc, "position", None) else None
        return None, FileError(src.repo, src.path, f"invalid XML: {exc}", at)
    except RecursionError:
        return None, FileError(src.repo, src.path, "invalid XML: nesting too deep")


def module_decl(src: SourceFile) -> tuple[str, str, Span, dict[str, object]] | FileError | None:
    """(name, language, range, extra attrs) for one manifest, a FileError, or None (not a module root)."""
    import json

    base = basename(src.path)
    kind = module_kind(base)
    if kind == "go":
        for n, line in enumerate(src.lines):
            if m := re.match(r'^\s*module\s+"?([^\s"/]+(?:/[^\s"/]+)*)"?', line):
                parts = m.group(1).split("/")
                name = parts[-2] if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]) else parts[-1]
                return name, "go", src.span_from_chars(n, m.start(1), n, m.end(1)), {"module": m.group(1)}
        return FileError(src.repo, src.path, "go.mod without a module directive", 0)
    if kind == "npm":
        try:
            data = json.loads(src.text)
        except json.JSONDecodeError as exc:
            return FileError(src.repo, src.path, f"invalid JSON: {exc.msg}", exc.lineno - 1)
        except RecursionError:
            return FileError(src.repo, src.path, "invalid JSON: nesting too deep")
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
            return None
        if data.get("private") is True and data.get("workspaces"):
            return None  # a workspace root: its packages are the modules
        deps = {**(data.get("dependencies") or {}), **(data.get("devDependencies") or {})} \
            if all(isinstance(data.get(k, {}), dict) for k in ("dependencies", "devDependencies")) else {}
        ts = "typescript" in deps or "types" in data or "typings" in data
        return data["name"], "typescript" if ts else "javascript", key_line(src, '"name"', data["name"]), {}
    if kind in ("pyproject", "cargo"):
        tables = ["project", "tool.poetry"] if kind == "pyproject" else ["package"]
        table, err = toml_table(src, tables)
        if err or table is None:
            return err
        name = str(table["name"])
        return name, "python" if kind == "pyproject" else "rust", key_line(src, "name", name), {}
    if kind == "setupcfg":
        for n, line in enumerate(src.lines):
            if line.strip().lower() == "[metadata]":
                for k in range(n + 1, len(src.lines)):
                    if src.lines[k].startswith("["):
                        break
                    if m := re.match(r"^name\s*[=:]\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*$", src.lines[k]):
                        return m.group(1), "python", src.span_from_chars(k, m.start(1), k, m.end(1)), {}
        return None
    if kind in ("maven", "csproj"):
        root, err = safe_xml(src)
        if err or root is None:
            return err
        if kind == "csproj":
            return base[: -len(".csproj")], "csharp", Span.line(0), {}
        tag = getattr(root, "tag", "")
        ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
        art = root.find(f"{ns}artifactId")  # type: ignore[attr-defined]
        if not tag.endswith("project") or art is None or not (art.text or "").strip():
            return None
        name = art.text.strip()
        lang = "kotlin" if "kotlin-maven-plugin" in src.text else "java"
        return name, lang, key_line(src, "<artifactId>", name), {}
    if kind == "gradle":
        lang = "kotlin" if re.search(r"kotlin\(|org\.jetbrains\.kotlin", src.text) else "java"
        return basename(folder(src.path)) or src.repo, lang, Span.line(0), {"name_guessed": True}
    if kind == "gradle-settings":
        for n, line in enumerate(src.lines):
            if m := re.search(r"rootProject\.name\s*=\s*[\"']([^\"']+)[\"']", line):
                return m.group(1), "", src.span_from_chars(n, m.start(1), n, m.end(1)), {}
        return None
    return None


class ModuleExtractor(Extractor):
    name = "services.module"
    version = 1

    def wants(self, path: str) -> bool:
        return module_kind(basename(path)) is not None and not skipped(path)

    def extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, "file too large to read")])
        found = module_decl(src)
        if isinstance(found, FileError):
            return Partial(errors=[found])
        if found is None:
            return Partial()
        name, lang, rng, extra = found
        attrs: dict[str, object] = {"manifest": basename(src.path), **extra}
        if lang:
            attrs["language"] = lang
        return Partial(services=[ServiceDecl(name, src.repo, folder(src.path), "module", src.path, rng, attrs)])
