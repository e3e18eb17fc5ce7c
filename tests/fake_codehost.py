"""A fake code host on loopback for tests: the parts of the GitHub REST API (issue comments of a pull
request) and of the GitLab REST API v4 (merge request notes) that `lore review --post` uses, with their
pagination and authentication headers. Records every request; never touches the network."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

GH_LIST = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$")
GH_EDIT = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$")
GL_LIST = re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes$")
GL_EDIT = re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)$")


@dataclass
class CodeHost:
    token: str = "test-token"
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # thread -> comments, oldest first
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    url: str = ""
    _ids: int = 1000

    def thread(self, key: str) -> list[dict[str, Any]]:
        return self.comments.setdefault(key, [])

    def add(self, key: str, body: str, author: str = "someone") -> int:
        self._ids += 1
        self.thread(key).append({"id": self._ids, "body": body, "user": {"login": author}})
        return self._ids

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _b in self.requests if m != "GET"]


def _handler(host: CodeHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _auth(self, gitlab: bool) -> bool:
            ok = (self.headers.get("PRIVATE-TOKEN") == host.token) if gitlab else (
                self.headers.get("Authorization") == f"Bearer {host.token}")
            if not ok:
                self._send(401, {"message": "Bad credentials"})
            return ok

        def _send(self, code: int, doc: Any) -> None:
            data = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any] | None:
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n)) if n else None

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            body = self._body() if method in ("POST", "PATCH", "PUT") else None
            host.requests.append((method, parts.path, body))
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            for pattern, gitlab in ((GH_LIST, False), (GL_LIST, True)):
                m = pattern.match(parts.path)
                if m:
                    if not self._auth(gitlab):
                        return
                    thread = host.thread(parts.path)
                    if method == "GET":
                        per, page = int(query.get("per_page", 30)), int(query.get("page", 1))
                        self._send(200, thread[(page - 1) * per: page * per])
                    elif method == "POST" and body is not None:
                        cid = host.add(parts.path, str(body["body"]), "lore-bot")
                        self._send(201, next(c for c in thread if c["id"] == cid))
                    else:
                        self._send(405, {"message": "method"})
                    return
            for pattern, gitlab, verb in ((GH_EDIT, False, "PATCH"), (GL_EDIT, True, "PUT")):
                m = pattern.match(parts.path)
                if m:
                    if not self._auth(gitlab):
                        return
                    cid = int(m.group(m.lastindex or 0))
                    found = next((c for cs in host.comments.values() for c in cs if c["id"] == cid), None)
                    if method != verb or found is None or body is None:
                        self._send(404, {"message": "Not Found"})
                        return
                    found["body"] = body["body"]
                    self._send(200, found)
                    return
            self._send(404, {"message": "Not Found"})

        def do_GET(self) -> None:  # noqa: N802 - http.server's names
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def do_PATCH(self) -> None:  # noqa: N802
            self._route("PATCH")

        def do_PUT(self) -> None:  # noqa: N802
            self._route("PUT")

    return Handler


@contextmanager
def code_host(token: str = "test-token") -> Iterator[CodeHost]:
    host = CodeHost(token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(host))
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
