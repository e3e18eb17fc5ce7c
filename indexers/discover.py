"""Which files of a repository Lore reads, and why it skips the others.

Files come from git (tracked plus untracked-not-ignored), so `.gitignore` holds. Then, by name and stat
only (nothing is read yet): secrets are never read; symlinks are never followed (loops, links leaving the
repo); vendored folders, generated code and file names that are not UTF-8 are skipped; files over the
size limit are skipped; files no extractor wants are counted as unsupported. Binary content is detected
after reading (a NUL byte in the first 8 KB). Every skip has a reason that is counted in the index report.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

VENDORED_DIRS = frozenset({
    "node_modules", "vendor", "third_party", "third-party", "bower_components", "Pods", ".git", ".hg",
    ".svn", "site-packages", ".venv", "venv", "__pycache__", "dist", ".yarn", ".pnpm-store", "jspm_packages",
    ".tox", ".gradle", ".idea", ".vscode-test",
})

GENERATED_NAMES = re.compile(
    r"(_pb2\.pyi?|_pb2_grpc\.pyi?|\.pb\.go|_grpc\.pb\.go|\.pb\.gw\.go|\.pb\.validate\.go|_pb\.(?:js|d\.ts|ts)|"
    r"_grpc_pb\.(?:js|d\.ts|ts)|\.pb\.(?:cc|h|ts|swift|dart)|\.min\.(?:js|css)|\.g\.cs|\.designer\.cs|"
    r"Grpc\.cs|_generated\.\w+|\.generated\.\w+|zz_generated\.\w+\.go|package-lock\.json|yarn\.lock|"
    r"pnpm-lock\.yaml|poetry\.lock|Cargo\.lock|go\.sum)$"
)

SECRET_NAMES = re.compile(
    r"^(\.env(\..*)?|.*\.pem|.*\.key|.*\.p12|.*\.pfx|.*\.jks|.*\.keystore|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?|"
    r"\.netrc|_netrc|\.npmrc|\.pypirc|\.pgpass|\.htpasswd|credentials(\..*)?|.*credentials\.json|"
    r"secrets?\.(ya?ml|json|toml|env)|.*\.tfvars|.*\.tfstate(\.backup)?|\.git-credentials|.*\.kdbx|"
    r"service-account.*\.json|.*\.secret)$",
    re.IGNORECASE,
)

BINARY_SNIFF = 8192


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str  # repo-relative POSIX
    size: int
    mtime_ns: int


# Source files by language, for saying what Lore did not read: a consumer list is a lower bound while
# code in a language Lore does not extract usages from is in the workspace.
CODE_LANGUAGES = {
    ".go": "Go", ".py": "Python", ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript",
    ".ts": "TypeScript", ".tsx": "TypeScript", ".mts": "TypeScript", ".cts": "TypeScript", ".java": "Java", ".cs": "C#",
    ".kt": "Kotlin", ".kts": "Kotlin", ".scala": "Scala", ".rs": "Rust", ".cc": "C++", ".cpp": "C++", ".cxx": "C++",
    ".hpp": "C++", ".c": "C", ".rb": "Ruby", ".php": "PHP", ".ex": "Elixir", ".exs": "Elixir", ".erl": "Erlang",
    ".swift": "Swift", ".m": "Objective-C", ".mm": "Objective-C", ".dart": "Dart", ".clj": "Clojure", ".cljs": "Clojure",
    ".hs": "Haskell", ".fs": "F#", ".vb": "Visual Basic", ".lua": "Lua", ".pl": "Perl", ".pm": "Perl", ".r": "R",
    ".groovy": "Groovy", ".elm": "Elm", ".ml": "OCaml", ".zig": "Zig", ".nim": "Nim", ".cr": "Crystal", ".jl": "Julia",
}


def code_language(path: str) -> str:
    """The language of a source file by its name, or ''."""
    dot = path.rfind(".")
    return CODE_LANGUAGES.get(path[dot:].lower(), "") if dot > path.rfind("/") else ""


def _utf8(path: str) -> bool:
    """Whether a path git listed is UTF-8. A name in another encoding (kept openable through
    surrogateescape) could not be shown, linked or sent over LSP, so its file is skipped with a reason."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def skip_reason_by_name(path: str, exclude: tuple[str, ...] = ()) -> str | None:
    parts = path.split("/")
    name = parts[-1]
    if SECRET_NAMES.match(name):
        return "secret"
    if any(p in VENDORED_DIRS for p in parts[:-1]):
        return "vendored"
    if not path.isascii() and not _utf8(path):
        return "undecodable_name"
    if GENERATED_NAMES.search(name):
        return "generated"
    for pattern in exclude:
        if fnmatch.fnmatch(path, pattern):
            return "excluded"
    return None


def stat_file(root: Path | str, rel: str, max_size: int) -> tuple[Candidate | None, str | None]:
    """(candidate, None) for a readable regular file, else (None, reason)."""
    try:
        st = os.lstat(f"{root}/{rel}")
    except FileNotFoundError:
        return None, "deleted"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    if stat.S_ISLNK(st.st_mode):
        return None, "symlink"
    if stat.S_ISDIR(st.st_mode):
        return None, "submodule"
    if not stat.S_ISREG(st.st_mode):
        return None, "not_a_file"
    if st.st_size > max_size:
        return None, "too_large"
    return Candidate(rel, st.st_size, st.st_mtime_ns), None


def looks_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF]
