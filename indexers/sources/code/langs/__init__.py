"""Usage passes of the languages read through their own modules: C++, Rust, Kotlin, Ruby and PHP.

Each module reads the same structural facts (`code_facts`, from `queries/<lang>-calls.scm`) and emits
the same usage kinds and attrs as the passes of Go, Python, JavaScript, Java and C# (`grpc.server`,
`grpc.server_method`, `grpc.client`, `grpc.call`, `http.route`, `http.call`, `graphql.resolver`, and
`sql.*` through the shared SQL pass), so linking reads them alike. A `Spec` says which passes could find
anything in a file (cheap byte tests, as `code_extract` does for the other languages), which fact
categories they read, and which file names and heads mark generated code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from indexers.positions import SourceFile
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.langs import cpp, kotlin, php, ruby, rust
from indexers.sources.code.sql import sql, sql_hint

__all__ = ["SPECS", "Spec"]

_SQL_NEEDS = ("string",)


@dataclass(frozen=True)
class Spec:
    tokens: dict[str, tuple[bytes, ...]]  # pass -> byte substrings one of which the file must hold
    needs: dict[str, tuple[str, ...]]  # pass -> fact categories it reads
    steps: tuple[tuple[str, Callable[[Ctx], None]], ...]
    generated_name: re.Pattern[str] | None = None
    generated_head: re.Pattern[str] | None = None

    def wanted(self, src: SourceFile) -> set[str]:
        data = src.data
        out = {name for name, toks in self.tokens.items() if any(t in data for t in toks)}
        if sql_hint(src.text, data.lower()):
            out.add("sql")
        return out

    def need(self, passes: set[str]) -> set[str]:
        return {cat for p in passes for cat in (self.needs.get(p) or (_SQL_NEEDS if p == "sql" else ()))}

    def generated(self, name: str, head: bytes) -> bool:
        if self.generated_name is not None and self.generated_name.search(name):
            return True
        return self.generated_head is not None and bool(
            self.generated_head.search(head[:2048].decode("utf-8", errors="replace")))

    def passes(self) -> tuple[tuple[str, Callable[[Ctx], None]], ...]:
        return (*self.steps, ("sql", sql))


SPECS: dict[str, Spec] = {
    "cpp": Spec(cpp.TOKENS, cpp.NEEDS, cpp.STEPS, cpp.GENERATED_NAME, cpp.GENERATED_HEAD),
    "rust": Spec(rust.TOKENS, rust.NEEDS, rust.STEPS, rust.GENERATED_NAME, rust.GENERATED_HEAD),
    "ruby": Spec(ruby.TOKENS, ruby.NEEDS, ruby.STEPS, ruby.GENERATED_NAME, ruby.GENERATED_HEAD),
    "php": Spec(php.TOKENS, php.NEEDS, php.STEPS, php.GENERATED_NAME, php.GENERATED_HEAD),
    "kotlin": Spec(kotlin.TOKENS, kotlin.NEEDS, kotlin.STEPS, kotlin.GENERATED_NAME, kotlin.GENERATED_HEAD),
}
