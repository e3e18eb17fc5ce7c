"""The hover: a Context a person reads in two seconds.

The first line says what is here and who depends on it (rpc `GetCart` — provided by cart-service (Go),
called by checkout-service and storefront); then one line per section that has something, the most
important first (a risk, a workaround or hotfix on these lines, the consumers, ... the last change),
each capped at `max_notes` items with "+N more"; everything else is behind the links and the Show
Context command. Generic over sections: a section this module has never heard of is shown too, ranked by
its notes' kinds (unknown kinds rank in the middle).

Repository text reaches the markdown only through `render.escape_md` and `render.code`; links are only
the ones the resolver builds from Locations (`render.file_uri`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from indexers.model import Location, Note, Section, Span
from lore.query.context import Context
from lore.query.render import LinkResolver, clean, code
from lore.query.render import escape_inline as escape_md

# How much a note matters to someone about to change these lines: lower first. Kinds not listed rank in
# the middle (RANK_UNKNOWN), so a section added later is neither buried nor put above a risk.
RANK: dict[str, int] = {
    # risks: breaking the contract or its copies, problems in the file
    "breaking": 0, "conflict": 0, "drift": 0, "problem": 0, "deprecated": 0,
    # what the team wrote about these lines (lore note): warnings and incidents next to the risks
    "team_warning": 5, "team_incident": 5, "team_decision": 30, "team_tip": 35,
    # what the lines are: history that explains them
    "incident": 10, "hotfix": 10, "security": 10, "regression_fix": 10, "workaround": 10, "temporary": 10,
    "revert": 11, "reapply": 11, "churn": 12, "marker": 13,
    # who depends on it
    "consumer": 20, "consumers_summary": 20, "provider": 22, "providers_summary": 22,
    "decision": 30,
    # details: the entity itself, copies, ownership, routine history
    "entity": 50, "copies": 50, "canonical": 50, "usage": 90,
    "service": 60, "owner": 60, "last_change": 70, "coupling": 75, "service_coupling": 75,
    "history_pending": 95,  # the line history is still being read: said, last
}
RANK_UNKNOWN = 40
HEADLINE_NAMES = 3  # names in the first line before "and N more"

_LANGUAGES = {"go": "Go", "python": "Python", "typescript": "TypeScript", "tsx": "TypeScript", "javascript": "JavaScript",
              "java": "Java", "csharp": "C#", "cpp": "C++", "c": "C", "rust": "Rust", "kotlin": "Kotlin", "ruby": "Ruby",
              "php": "PHP", "scala": "Scala", "swift": "Swift", "elixir": "Elixir"}
_CALLED = {"proto.rpc", "openapi.operation", "graphql.field"}
_SHA = re.compile(r"[0-9a-f]{40}")
_CITE = re.compile(r"^([A-Za-z0-9._-]+)/(.+?)(?::(\d+))?$")


def render_brief(ctx: Context, *, max_notes: int = 8, resolve: LinkResolver | None = None) -> str:
    by_name = {s.name: s for s in ctx.sections}
    out: list[str] = []
    head = _headline(by_name)
    if head:
        out.append(head)
    lines: list[tuple[int, int, str]] = []
    for i, sec in enumerate(ctx.sections):
        for rank, line in _section_lines(sec, max_notes, resolve):
            lines.append((rank, i, line))
    # History gaps are announced once per session (a window message) and in the History section itself;
    # repeating them under every hover would bury the file's own problems.
    problems = [p for p in ctx.problems if not p.startswith("history: ")]
    if problems:
        shown = problems[:max_notes]
        more = f" · +{len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        lines.append((0, -1, "**Problems in this file** " + " · ".join(escape_md(p, 200) for p in shown) + more))
    lines.sort(key=lambda t: (t[0], t[1]))
    if lines:
        out.append("\n".join(f"- {line}" for _r, _i, line in lines))
    return "\n\n".join(out)


# -- the first line -------------------------------------------------------------------------------------
def _headline(by_name: dict[str, Section]) -> str:
    contract = by_name.get("contract")
    entity = next((n for n in contract.notes if n.kind == "entity"), None) if contract else None
    if entity is None:
        return _service_headline(by_name.get("service"))
    d = entity.data
    kind = str(d.get("kind", ""))
    what = f"{_kind_word(kind)} {code(_short_name(d))}{_shard_tag(entity)}"
    if (d.get("attrs") or {}).get("deprecated"):
        what += " (**deprecated**)"
    links = by_name.get("links")
    notes = links.notes if links else ()
    providers = _names(n for n in notes if n.kind == "provider")
    consumers = _names(n for n in notes if n.kind == "consumer")
    verb = "called by" if kind in _CALLED else "used by"
    parts = []
    if providers:
        parts.append(f"provided by {_join(providers)}")
    if consumers:
        parts.append(f"{verb} {_join(consumers)}")
    if not parts:
        parts.append("no known providers or consumers")
    if any(n.data.get("lower_bound") for n in notes):
        parts[-1] += " (maybe more: not everything was read)"
    return f"{what} — {', '.join(parts)}"


def _service_headline(sec: Section | None) -> str:
    if sec is None:
        return ""
    svc = next((n for n in sec.notes if n.kind == "service"), None)
    owner = next((n for n in sec.notes if n.kind == "owner"), None)
    if svc is None:
        return ""
    head = f"service **{escape_md(str(svc.data.get('service', '')), 120)}**" + _shard_tag(svc)
    langs = [_language(x) for x in svc.data.get("languages", [])][:3]
    if langs:
        head += f" ({escape_md(', '.join(langs), 80)})"
    if owner is not None:
        head += f", owned by {escape_md(', '.join(owner.data.get('owner', [])), 120)}"
    return head


def _kind_word(kind: str) -> str:
    word = kind.split(".", 1)[-1].replace("_", " ")
    return {"operation": "operation", "enum value": "enum value"}.get(word, word)


def _short_name(d: dict[str, Any]) -> str:
    attrs = d.get("attrs") or {}
    if d.get("kind") == "openapi.operation" and attrs.get("path"):
        return f"{str(attrs.get('method', '')).upper()} {attrs['path']}".strip()
    return str(d.get("name") or str(d.get("id", "")).rsplit(".", 1)[-1])


def _names(notes: Any) -> list[str]:
    """Service names (or repos) of provider/consumer notes, once each, with their language."""
    out: dict[str, str] = {}
    for n in notes:
        name = str(n.data.get("service") or n.data.get("repo") or "")
        if not name or name in out:
            continue
        lang = _language(str(n.data.get("language", "")))
        out[name] = f"**{escape_md(name, 80)}**" + (f" ({escape_md(lang, 40)})" if lang else "") + _shard_tag(n)
    return list(out.values())


def _language(lang: str) -> str:
    return _LANGUAGES.get(lang.lower(), lang.capitalize()) if lang else ""


def _join(names: list[str]) -> str:
    if len(names) > HEADLINE_NAMES:
        return ", ".join(names[:HEADLINE_NAMES]) + f" and {len(names) - HEADLINE_NAMES} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _shard_tag(note: Note) -> str:
    origin = note.data.get("from_shard")
    if not isinstance(origin, dict):
        return ""
    commit = str(origin.get("commit") or "")[:12]
    return " " + escape_md(f"[from shard {origin.get('repo', '')}" + (f"@{commit}" if commit else "") + "]", 120)


# -- one line per section -------------------------------------------------------------------------------
def _rank(note: Note) -> int:
    if note.kind == "entity" and (note.data.get("attrs") or {}).get("deprecated"):
        return RANK["deprecated"]
    return RANK.get(note.kind, RANK_UNKNOWN)


def _section_lines(sec: Section, max_notes: int, resolve: LinkResolver | None) -> list[tuple[int, str]]:
    """(rank, markdown) lines for a section: the links section splits into consumers and providers; every
    other section is one line. The headline already says what the entity is and the line's own usage."""
    notes = [n for n in sec.notes if n.kind != "usage"]
    if not notes:
        return []
    if sec.name == "links":
        out = []
        for kind, title in (("consumer", "Consumers"), ("provider", "Providers")):
            group = [n for n in notes if n.kind == kind]
            summary = next((n for n in notes if n.kind == f"{kind}s_summary"), None)
            if group:
                out.append((_rank(group[0]), _line(title, [_site(n, resolve) for n in group], max_notes, summary)))
        return out
    items = [_item(n, resolve) for n in notes]
    return [(min(_rank(n) for n in notes), _line(escape_md(sec.title, 80), items, max_notes, None))]


def _line(title: str, items: Sequence[str], max_notes: int, summary: Note | None) -> str:
    shown = list(items[:max_notes])
    more = len(items) - len(shown)
    count = ""
    if summary is not None:
        n = int(summary.data.get("count", 0))
        count = f" ({n} site{'s' if n != 1 else ''}{', maybe more' if summary.data.get('lower_bound') else ''})"
    tail = f" · +{more} more" if more > 0 else ""
    return f"**{title}**{count} " + " · ".join(shown) + tail


def _site(note: Note, resolve: LinkResolver | None) -> str:
    d = note.data
    name = escape_md(str(d.get("service") or d.get("repo") or "?"), 80)
    link = _link(note, resolve)
    extra = int(d.get("count", 1)) - 1
    return f"{name} {link}" + (f" (+{extra} more)" if extra > 0 else "") + _shard_tag(note)


def _item(note: Note, resolve: LinkResolver | None) -> str:
    """One item of a section line; text a shard brought says so (the generic text already does)."""
    if note.kind in ("entity", "service", "owner") or ("subject" in note.data and "label" in note.data):
        return _from_data(note, resolve) + _shard_tag(note)
    return f"{escape_md(_without_sha(note.text), 400)} {_link(note, resolve)}".rstrip()


def _from_data(note: Note, resolve: LinkResolver | None) -> str:
    d = note.data
    if note.kind == "entity":
        return f"{code(str(d.get('description') or d.get('id', '')))} {_link(note, resolve)} · {code(str(d.get('id', '')))}"
    if note.kind == "service":
        return f"{escape_md(str(d.get('service', '')), 80)} {_link(note, resolve)}".rstrip()
    if note.kind == "owner":
        return f"owner {escape_md(', '.join(d.get('owner', [])), 120)} {_link(note, resolve)}".rstrip()
    # a commit the history layer classified
    subject = str(d["subject"])
    label = str(d["label"])
    head = subject if subject.lower().startswith(label.lower()) else f"{label}: {subject}"
    refs = [r for r in d.get("refs", []) if r not in subject][:3]
    who = ", ".join(p for p in (str(d.get("author", "")), str(d.get("date", ""))[:10]) if p)
    text = escape_md(head, 200) + (f" (refs {escape_md(', '.join(refs), 80)})" if refs else "")
    if d.get("reverts"):
        text += f" (undoes {escape_md(str(d['reverts'])[:8], 20)})"
    if d.get("said"):
        text += f" — {escape_md(_without_sha(str(d['said'])), 160)}"  # the words that decided the kind
    return f"{text} — {escape_md(who, 80)} {_link(note, resolve)}".rstrip()


def _without_sha(text: str) -> str:
    return _SHA.sub(lambda m: m.group(0)[:8], text)


def _link(note: Note, resolve: LinkResolver | None) -> str:
    """The citation as a link where Lore can build one (file:line), else as short text."""
    loc = note.location or _cited_location(note.source)
    label = _label(note, loc)
    target = resolve(loc) if resolve is not None and loc is not None else None
    if target:
        return f"[{escape_md(label, 120)}]({target})"
    return code(label, 120) if label else ""


def _label(note: Note, loc: Location | None) -> str:
    """Short citation text: a commit's 8-character sha, a file's name and line (the path is in the link)."""
    src = clean(note.source, 200)
    if _SHA.fullmatch(src):
        return src[:8]
    if loc is None:
        return src
    name = loc.path.rsplit("/", 1)[-1] or loc.path
    return name if note.kind in ("decision", "coupling") else f"{name}:{loc.range.start_line + 1}"


def _cited_location(source: str) -> Location | None:
    """`repo/path:LINE` (1-based) as a Location, for notes that cite a file without carrying one."""
    m = _CITE.match(source.strip())
    if not m or _SHA.fullmatch(source.strip()):
        return None
    line = int(m.group(3)) - 1 if m.group(3) else 0
    return Location(m.group(1), m.group(2), Span.line(max(line, 0)))
