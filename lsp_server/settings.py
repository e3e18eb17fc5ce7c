"""Typed settings from `initializationOptions` and `workspace/configuration` (section "lore").

Keys are camelCase on the wire (`cacheDir`, `maxHoverNotes`, `features.codeLens`). Every key is optional;
an invalid value falls back to its default and is reported (the server shows the warnings with
window/showMessage), so a typo never stops the server. Unknown top-level keys are only logged: editor
extensions keep their own settings (`lore.trace.server`, `lore.serverPath`) in the same section.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass, field
from typing import Any

LOG_LEVELS = ("error", "warning", "info", "debug")
SERVE_SAVED = ("auto", "always", "never")
log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Features:
    hover: bool = True
    diagnostics: bool = True
    code_actions: bool = True
    code_lens: bool = True
    navigation: bool = True


@dataclass(frozen=True, kw_only=True)
class Settings:
    repos: tuple[str, ...] = ()  # repo folders; empty: discover from the workspace folders
    cache_dir: str | None = None
    features: Features = field(default_factory=Features)
    max_hover_notes: int = 8
    log_level: str = "warning"
    # the first index served from the last `lore index`'s saved records when nothing changed since:
    # "auto" for a large index (see lsp_server.indexing.SERVE_SAVED_FACTS), "always", or "never"
    serve_saved: str = "auto"

    @property
    def logging_level(self) -> int:
        return int(getattr(logging, self.log_level.upper(), logging.WARNING))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _check(name: str, value: Any, default: Any, problems: list[str]) -> Any:
    if name == "repos":
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
            return tuple(value)
        problems.append(f"lore.repos must be a list of folder paths, got {value!r}")
    elif name == "cache_dir":
        if value is None or (isinstance(value, str) and value):
            return value
        problems.append(f"lore.cacheDir must be a folder path, got {value!r}")
    elif name == "max_hover_notes":
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100:
            return value
        problems.append(f"lore.maxHoverNotes must be a number from 1 to 100, got {value!r}")
    elif name == "serve_saved":
        if isinstance(value, str) and value.lower() in SERVE_SAVED:
            return value.lower()
        problems.append(f"lore.serveSaved must be one of {', '.join(SERVE_SAVED)}, got {value!r}")
    elif name == "log_level":
        if isinstance(value, str) and value.lower() in LOG_LEVELS:
            return value.lower()
        problems.append(f"lore.logLevel must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return default


def _features(raw: Any, problems: list[str]) -> Features:
    if raw is None:
        return Features()
    if not isinstance(raw, dict):
        problems.append(f"lore.features must be an object, got {raw!r}")
        return Features()
    known = {f.name: f for f in dataclasses.fields(Features)}
    values: dict[str, bool] = {}
    for key, value in raw.items():
        name = _snake(str(key))
        if name not in known:
            problems.append(f"lore.features.{key} is not a known feature ({', '.join(_camel(n) for n in known)})")
        elif not isinstance(value, bool):
            problems.append(f"lore.features.{key} must be true or false, got {value!r}")
        else:
            values[name] = value
    return Features(**values)


def parse(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from a JSON-like object; (settings, human-readable problems)."""
    problems: list[str] = []
    if raw is None or raw == []:  # Neovim encodes an empty Lua table as []
        return Settings(), problems
    if not isinstance(raw, dict):
        return Settings(), [f"lore settings must be an object, got {type(raw).__name__}"]
    if isinstance(raw.get("lore"), dict) and len(raw) == 1:  # {"lore": {...}} as some clients send it
        raw = raw["lore"]
    defaults = Settings()
    values: dict[str, Any] = {}
    fields = {f.name for f in dataclasses.fields(Settings)}
    for key, value in raw.items():
        name = _snake(str(key))
        if name == "features":
            values["features"] = _features(value, problems)
        elif name in fields:
            values[name] = _check(name, value, getattr(defaults, name), problems)
        else:
            log.info("lore.%s is not a server setting; ignored", key)
    return Settings(**values), problems


def merged(base: Any, override: Any) -> Any:
    """initializationOptions overlaid with workspace/configuration (which wins, key by key)."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override if isinstance(override, dict) and override else base
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out.get(key), value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def plain(obj: Any) -> Any:
    """pygls hands unknown JSON to handlers as namedtuples (and lsprotocol as attrs/objects): back to
    dicts and lists, recursively."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if hasattr(obj, "_asdict"):
        return {k: plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    try:
        from lsprotocol import converters

        return converters.get_converter().unstructure(obj)
    except Exception:  # noqa: BLE001
        return None
