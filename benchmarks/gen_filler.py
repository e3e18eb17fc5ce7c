"""Filler source code for the synthetic organization: syntactically valid Go, Python, TypeScript, Java
and C# files of realistic size (1-10 KB), built from small function/method templates.

Why templates rather than random text: the baselines parse these files with tree-sitter and ctags, and
Lore extracts from them, so they must look like code (declarations, calls, control flow, comments) or
the throughput numbers would mean nothing. Everything is drawn from a `random.Random` passed in, so a
seed fixes the output byte for byte.
"""

from __future__ import annotations

import random

LANGS = ("go", "python", "typescript", "java", "csharp")
EXT = {"go": ".go", "python": ".py", "typescript": ".ts", "java": ".java", "csharp": ".cs"}
COMMENT = {"go": "//", "python": "#", "typescript": "//", "java": "//", "csharp": "//"}

VERBS = ("load", "build", "apply", "resolve", "compute", "merge", "split", "render", "encode", "decode",
         "validate", "normalize", "fetch", "store", "flush", "retry", "schedule", "publish", "collect",
         "reconcile", "sync", "parse", "format", "prune", "refresh", "track", "emit", "reserve", "release")
NOUNS = ("item", "batch", "record", "entry", "window", "token", "cursor", "quota", "budget", "ledger",
         "snapshot", "event", "payload", "header", "bucket", "segment", "policy", "rule", "route", "price",
         "balance", "limit", "offset", "request", "result", "account", "session", "config", "metric")
ADJS = ("pending", "stale", "active", "cached", "remote", "local", "partial", "total", "default", "next",
        "current", "expired", "primary", "shadow", "retryable", "visible")
FIELD_TYPES = {
    "go": ("string", "int64", "bool", "float64", "[]string", "time.Duration"),
    "typescript": ("string", "number", "boolean", "string[]", "Date"),
    "java": ("String", "long", "boolean", "double", "List<String>"),
    "csharp": ("string", "long", "bool", "double", "List<string>"),
}


def camel(*parts: str) -> str:
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def pascal(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in parts)


def snake(*parts: str) -> str:
    return "_".join(parts)


def ident(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(VERBS), rng.choice(ADJS), rng.choice(NOUNS)


def note_lines(lang: str, note: str | None, indent: str) -> str:
    return f"{indent}{COMMENT[lang]} {note}\n" if note else ""


# ---------------------------------------------------------------- blocks (one function or method each)

def go_block(rng: random.Random, note: str | None) -> str:
    v, a, n = ident(rng)
    name = pascal(v, a, n) if rng.random() < 0.5 else camel(v, a, n)
    typ = pascal(a, n)
    k = rng.randint(2, 6)
    body = "".join(
        f"\tif len(in.{pascal(rng.choice(NOUNS))}) > {rng.randint(1, 500)} {{\n"
        f"\t\tout = append(out, fmt.Sprintf(\"%s-{i}\", in.{pascal(rng.choice(NOUNS))}))\n\t}}\n"
        for i in range(k))
    return (f"\n// {name} {v}s the {a} {n} and reports what changed.\n{note_lines('go', note, '')}"
            f"func {name}(ctx context.Context, in *{typ}) ([]string, error) {{\n"
            f"\tif in == nil {{\n\t\treturn nil, errors.New(\"{snake(a, n)}: nil input\")\n\t}}\n"
            f"\tvar out []string\n{body}"
            f"\tfor i := 0; i < len(out); i++ {{\n\t\tif ctx.Err() != nil {{\n\t\t\treturn out[:i], ctx.Err()\n\t\t}}\n\t}}\n"
            f"\treturn out, nil\n}}\n\n"
            f"// {typ} holds the {a} {n} state.\ntype {typ} struct {{\n"
            + "".join(f"\t{pascal(rng.choice(NOUNS))}{i} {rng.choice(FIELD_TYPES['go'])}\n" for i in range(rng.randint(2, 5)))
            + "}\n")


def python_block(rng: random.Random, note: str | None) -> str:
    v, a, n = ident(rng)
    if rng.random() < 0.35:
        cls = pascal(a, n)
        meths = "".join(
            f"\n    def {snake(rng.choice(VERBS), rng.choice(NOUNS))}(self, value: int = {rng.randint(0, 9)}) -> int:\n"
            f"        \"\"\"Return the {rng.choice(ADJS)} value.\"\"\"\n"
            f"        if value > self.{rng.choice(NOUNS)}_limit:\n            return self.{rng.choice(NOUNS)}_limit\n"
            f"        return value * {rng.randint(2, 9)}\n"
            for _ in range(rng.randint(2, 4)))
        return (f"\n\n{note_lines('python', note, '')}class {cls}:\n    \"\"\"{pascal(v)}s {a} {n}s.\"\"\"\n\n"
                + "".join(f"    {nn}_limit: int = {rng.randint(10, 999)}\n" for nn in NOUNS[:rng.randint(2, 4)])
                + meths)
    name = snake(v, a, n)
    k = rng.randint(2, 6)
    body = "".join(
        f"    if len(items) > {rng.randint(1, 500)}:\n        result.append(f\"{{items[0]}}-{i}\")\n"
        f"    elif not items:\n        log.debug(\"{name}: empty at step {i}\")\n"
        for i in range(k))
    return (f"\n\n{note_lines('python', note, '')}def {name}(items: list[str], *, limit: int = {rng.randint(10, 99)}) -> list[str]:\n"
            f"    \"\"\"{pascal(v)} the {a} {n}s, at most `limit`.\"\"\"\n    result: list[str] = []\n{body}"
            f"    return result[:limit]\n")


def typescript_block(rng: random.Random, note: str | None) -> str:
    v, a, n = ident(rng)
    name = camel(v, a, n)
    typ = pascal(a, n)
    k = rng.randint(2, 6)
    body = "".join(
        f"  if (input.{rng.choice(NOUNS)}{i} !== undefined && out.length < {rng.randint(1, 500)}) {{\n"
        f"    out.push(`${{input.{rng.choice(NOUNS)}{i}}}-{i}`);\n  }}\n"
        for i in range(k))
    fields = "".join(f"  {rng.choice(NOUNS)}{i}?: {rng.choice(FIELD_TYPES['typescript'])};\n" for i in range(k))
    return (f"\nexport interface {typ}{rng.randint(1, 99)} {{\n{fields}}}\n\n"
            f"/** {pascal(v)} the {a} {n} and return the keys that changed. */\n{note_lines('typescript', note, '')}"
            f"export function {name}(input: Record<string, unknown>): string[] {{\n  const out: string[] = [];\n{body}"
            f"  for (const key of Object.keys(input)) {{\n    if (key.startsWith('{n}')) {{\n      out.push(key);\n    }}\n  }}\n"
            f"  return out;\n}}\n")


def java_block(rng: random.Random, note: str | None) -> str:
    v, a, n = ident(rng)
    name = camel(v, a, n)
    k = rng.randint(2, 6)
    body = "".join(
        f"        if (input.size() > {rng.randint(1, 500)}) {{\n            out.add(input.get(0) + \"-{i}\");\n        }}\n"
        for i in range(k))
    return (f"\n    /** {pascal(v)}s the {a} {n}. */\n{note_lines('java', note, '    ')}"
            f"    public List<String> {name}(List<String> input) {{\n        List<String> out = new ArrayList<>();\n{body}"
            f"        for (String s : input) {{\n            if (s.startsWith(\"{n}\")) {{\n                out.add(s);\n            }}\n        }}\n"
            f"        return out;\n    }}\n")


def csharp_block(rng: random.Random, note: str | None) -> str:
    v, a, n = ident(rng)
    name = pascal(v, a, n)
    k = rng.randint(2, 6)
    body = "".join(
        f"            if (input.Count > {rng.randint(1, 500)})\n            {{\n                output.Add(input[0] + \"-{i}\");\n            }}\n"
        for i in range(k))
    return (f"\n        /// <summary>{pascal(v)}s the {a} {n}.</summary>\n{note_lines('csharp', note, '        ')}"
            f"        public IList<string> {name}(IList<string> input)\n        {{\n            var output = new List<string>();\n{body}"
            f"            foreach (var s in input)\n            {{\n                if (s.StartsWith(\"{n}\"))\n                {{\n"
            f"                    output.Add(s);\n                }}\n            }}\n            return output;\n        }}\n")


BLOCKS = {"go": go_block, "python": python_block, "typescript": typescript_block, "java": java_block,
          "csharp": csharp_block}


# ---------------------------------------------------------------- file frames (header and footer)

def frame(lang: str, pkg: str, cls: str, namespace: str) -> tuple[str, str]:
    """Header and footer of a filler file; blocks go in between."""
    if lang == "go":
        return (f"// Package {pkg} is part of the {namespace} service.\npackage {pkg}\n\nimport (\n\t\"context\"\n"
                f"\t\"errors\"\n\t\"fmt\"\n\t\"time\"\n)\n\nvar _ = time.Second\n", "")
    if lang == "python":
        return (f"\"\"\"{cls} helpers for the {namespace} service.\"\"\"\n\nfrom __future__ import annotations\n\n"
                f"import logging\n\nlog = logging.getLogger(__name__)\n", "")
    if lang == "typescript":
        return (f"// {cls} helpers for the {namespace} service.\nimport {{ strict as assert }} from 'assert';\n\n"
                f"export const MODULE = '{pkg}';\nassert.ok(MODULE.length > 0);\n", "")
    if lang == "java":
        return (f"package com.acme.{namespace.replace('-', '')}.{pkg};\n\nimport java.util.ArrayList;\n"
                f"import java.util.List;\n\n/** {cls} for the {namespace} service. */\npublic class {cls} {{\n", "}\n")
    return (f"using System.Collections.Generic;\n\nnamespace Acme.{pascal(*namespace.split('-'))}.{pascal(pkg)}\n{{\n"
            f"    /// <summary>{cls} for the {namespace} service.</summary>\n    public class {cls}\n    {{\n",
            "    }\n}\n")


def filler_blocks(lang: str, rng: random.Random, target_bytes: int, header: str, footer: str) -> list[str]:
    """Blocks until the file reaches about `target_bytes`."""
    blocks: list[str] = []
    size = len(header) + len(footer)
    while size < target_bytes or not blocks:
        b = BLOCKS[lang](rng, None)
        blocks.append(b)
        size += len(b)
    return blocks


def file_size(rng: random.Random) -> int:
    """Log-uniform between 1 and 10 KB, like real source files."""
    return int(1024 * 10 ** rng.uniform(0.0, 1.0))
