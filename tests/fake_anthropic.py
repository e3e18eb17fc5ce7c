"""A scripted model behind a fake Anthropic Messages API on loopback, for driving the real Claude Code client
in tests without a key or the network (ANTHROPIC_BASE_URL points here).

The "model" answers every request of the agent loop by the number of tool results the conversation holds:
the scripted tool calls first (Read a file, Edit it, ...), then, while the latest request does not contain
`wait_for` (a diagnostic Lore should have delivered), a short `sleep` through the Bash tool so the client
keeps asking (bounded by `max_waits`), then a final text answer. Requests without tools (the client's own
side questions) get a one-word answer. Every request body is kept for the test to read: what the client
sent the model is exactly what the agent would have seen. Streaming (SSE) and plain JSON answers both.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "claude-sonnet-4-5"


@dataclass
class Script:
    calls: list[tuple[str, dict[str, Any]]]  # (tool name, input) in order
    wait_for: str = ""
    max_waits: int = 15
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def texts(self) -> list[str]:
        """Each agent-loop request's messages as one JSON string (what the model was shown)."""
        return [json.dumps(r.get("messages", []), ensure_ascii=False) for r in self.requests if r.get("tools")]

    def seen(self, needle: str) -> bool:
        return any(needle in t for t in self.texts())

    def delivered(self, tag: str = "new-diagnostics") -> list[str]:
        """The bodies of every `<tag>...</tag>` block the client put in front of the model."""
        out: list[str] = []
        for r in self.requests:
            for m in r.get("messages", []):
                blocks = m["content"] if isinstance(m.get("content"), list) else [{"type": "text", "text": m.get("content", "")}]
                for b in blocks:
                    text = b.get("text") if isinstance(b, dict) else None
                    if isinstance(text, str) and f"<{tag}>" in text:
                        body = text.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
                        if body not in out:
                            out.append(body)
        return out

    def tool_results(self, name: str) -> list[str]:
        """The text the client returned for each call the script made to the tool `name`."""
        ids = {f"toolu_{i:03d}" for i, (tool, _args) in enumerate(self.calls) if tool == name}
        out: list[str] = []
        for r in self.requests:
            for m in r.get("messages", []):
                for b in m.get("content", []) if isinstance(m.get("content"), list) else []:
                    if isinstance(b, dict) and b.get("type") == "tool_result" and b.get("tool_use_id") in ids:
                        content = b.get("content")
                        text = content if isinstance(content, str) else "".join(
                            c.get("text", "") for c in content or [] if isinstance(c, dict))
                        if text not in out:
                            out.append(text)
        return out

    def answer(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        if not body.get("tools"):
            return [{"type": "text", "text": "ok"}], "end_turn"
        msgs = body.get("messages", [])
        done = sum(1 for m in msgs if m.get("role") == "user" and isinstance(m.get("content"), list)
                   for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")
        if done < len(self.calls):
            name, args = self.calls[done]
            return [{"type": "tool_use", "id": f"toolu_{done:03d}", "name": name, "input": args}], "tool_use"
        waits = done - len(self.calls)
        if self.wait_for and self.wait_for not in json.dumps(msgs) and waits < self.max_waits:
            return [{"type": "tool_use", "id": f"toolu_{done:03d}", "name": "Bash",
                     "input": {"command": "sleep 1", "description": "Wait for the language server"}}], "tool_use"
        return [{"type": "text", "text": "Done."}], "end_turn"


def _sse(blocks: list[dict[str, Any]], stop: str, n: int) -> bytes:
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": {
        "id": f"msg_{n:04d}", "type": "message", "role": "assistant", "model": MODEL, "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}})]
    for i, b in enumerate(blocks):
        if b["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": b["text"]}}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                "type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(b["input"])}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                     "usage": {"output_tokens": 1}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events).encode()


@contextmanager
def fake_api(script: Script) -> Iterator[Script]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            n = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(n) or b"{}")
            except ValueError:
                body = {}
            if not self.path.startswith("/v1/messages") or "count_tokens" in self.path:
                self._send(b'{"input_tokens": 1}', "application/json")
                return
            with lock:
                script.requests.append(body)
                blocks, stop = script.answer(body)
                n_req = len(script.requests)
            if body.get("stream"):
                self._send(_sse(blocks, stop, n_req), "text/event-stream")
            else:
                self._send(json.dumps({"id": f"msg_{n_req:04d}", "type": "message", "role": "assistant", "model": MODEL,
                                       "content": blocks, "stop_reason": stop, "stop_sequence": None,
                                       "usage": {"input_tokens": 1, "output_tokens": 1}}).encode(), "application/json")

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send(self, data: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    script.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
