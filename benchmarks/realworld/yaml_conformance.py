"""Valid YAML and JSON are never reported as broken: Lore's loader against a conforming parser on every
YAML/JSON file of real repositories.

    python -m benchmarks.realworld.yaml_conformance GIT_DIR [GIT_DIR ...] [--rev REV]

For each `.yaml`/`.yml`/`.json` file at REV (default HEAD; read with `git cat-file`, nothing checked
out or run): whether the tree-sitter grammar accepts it, whether the conforming parser does (ruamel.yaml
for YAML; the standard library's json for JSON), and whether Lore's loader reports an error. Prints the
counts and every file Lore calls broken although the conforming parser accepts it (must be none), and
exits 1 if there is one. Templates (Helm `templates/`, `*.tmpl.*`, `{{` in a file the conforming parser
rejects) are counted apart: they are not YAML.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from ruamel.yaml import YAML

from indexers import ts
from indexers.positions import SourceFile
from indexers.sources.yaml.load import load

_ENV = {"GIT_NO_LAZY_FETCH": "1", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
MAX_BYTES = 2_000_000


def _files(git_dir: Path, rev: str) -> list[tuple[str, bytes]]:
    names = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", "--name-only", rev],
                           capture_output=True, check=True, env=_ENV).stdout.split(b"\0")
    wanted = [n.decode("utf-8", "surrogateescape") for n in names if n.endswith((b".yaml", b".yml", b".json"))]
    proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=_ENV)
    assert proc.stdin and proc.stdout
    out = []
    for name in wanted:
        proc.stdin.write(f"{rev}:{name}\n".encode("utf-8", "surrogateescape"))
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            continue
        data = proc.stdout.read(int(header[2]) + 1)[:-1]
        if len(data) <= MAX_BYTES:
            out.append((name, data))
    proc.stdin.close()
    proc.wait()
    return out


def conforming(name: str, data: bytes) -> bool:
    text = data.decode("utf-8", "replace")
    try:
        if name.endswith(".json"):
            json.loads(text)
        else:
            list(YAML(typ="safe", pure=True).compose_all(text))
        return True
    except Exception:  # noqa: BLE001 - any rejection is a rejection
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("git_dirs", nargs="+", type=Path)
    ap.add_argument("--rev", default="HEAD")
    args = ap.parse_args(argv)
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    for git_dir in args.git_dirs:
        for name, data in _files(git_dir, args.rev):
            lang = "json" if name.endswith(".json") else "yaml"
            grammar_ok = not ts.parse(lang, data).root_node.has_error
            valid = conforming(name, data)
            template = "/templates/" in f"/{name}" or ".tmpl." in name or (b"{{" in data and not valid)
            lore_ok = not load(SourceFile(git_dir.name, name, data), lang).errors
            key = "template" if template else ("valid" if valid else "invalid")
            counts[f"{key} files"] += 1
            if not grammar_ok:
                counts[f"{key}, grammar rejects"] += 1
            if not lore_ok:
                counts[f"{key}, Lore reports an error"] += 1
            if valid and not template and not lore_ok:
                wrong.append(f"{git_dir}: {name}")
    for k in sorted(counts):
        print(f"{k}: {counts[k]}")
    for w in wrong:
        print(f"valid but reported broken: {w}")
    print(f"{len(wrong)} valid files reported broken")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
