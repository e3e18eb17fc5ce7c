"""Lore's LanguageServerProtocol: pygls' protocol with a strict JSON-RPC 2.0 envelope.

pygls 2.1 turns JSON into typed messages inside `json.loads` (its object hook), so a request whose params
do not deserialize raises out of the read loop, is logged, and is never answered: the client waits
forever. Here the object hook keeps plain JSON and `handle_message` types the top-level object itself,
answering what can be answered:

- a request whose params do not fit its method: -32602 Invalid params, with its id;
- a request with a bad envelope (jsonrpc not "2.0", method not a string, id not an integer or string):
  -32600 Invalid Request (id null when the id itself is bad); a request after `shutdown`: -32600 (LSP);
- a batch (a JSON array; LSP has no batches): -32600 for every request in it, or once with id null;
- an unparsable body: -32700 Parse error, id null (sent by LoreServer.report_server_error, the hook
  pygls' read loop calls with the decoding error);
- notifications and responses are never answered (JSON-RPC); a bad one is logged and dropped, and a bad
  response to one of our own requests fails that request instead of leaving it pending forever.

Positions are UTF-16 (what facts use): `initialize` narrows the client's offered position encodings to
UTF-16 before pygls picks one, so a client preferring UTF-8 (Neovim) still gets UTF-16.
"""

from __future__ import annotations

import logging
from typing import Any

import cattrs
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
MAX_DETAILS = 3  # validation problems quoted in an Invalid params message


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _brief(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _problems(exc: BaseException) -> str:
    """A short human-readable account of why a message did not deserialize."""
    try:
        found = cattrs.transform_error(exc) if isinstance(exc, cattrs.BaseValidationError) else [f"{exc.__class__.__name__}: {exc}"]
    except Exception:  # noqa: BLE001 - the account is best effort; the error code is what matters
        found = [exc.__class__.__name__]
    more = f" (and {len(found) - MAX_DETAILS} more)" if len(found) > MAX_DETAILS else ""
    return "; ".join(found[:MAX_DETAILS]) + more


class LoreProtocol(LanguageServerProtocol):
    @lsp_method(t.INITIALIZE)
    def lsp_initialize(self, params: t.InitializeParams) -> Any:
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            general.position_encodings = [e for e in general.position_encodings if e == t.PositionEncodingKind.Utf16] or None
        return (yield from super().lsp_initialize(params))

    # -- the envelope ------------------------------------------------------------------------------------
    def structure_message(self, data: dict[str, Any]) -> Any:
        """The object hook of pygls' `json.loads`: keep plain JSON (see handle_message)."""
        return data

    def handle_message(self, message: Any) -> None:
        try:
            self._dispatch(message)
        except Exception:  # noqa: BLE001 - one bad message never ends the read loop
            log.exception("failed to handle message %s", _brief(message))

    def reply_error(self, msg_id: Any, code: int, message: str) -> None:
        """Send a JSON-RPC error response; `msg_id` None is sent as an explicit null."""
        self._send_data({"jsonrpc": self.VERSION, "id": msg_id, "error": {"code": code, "message": message}})

    def reply_parse_error(self, exc: BaseException) -> None:
        log.warning("unparsable message body: %s", _brief(exc))
        self.reply_error(None, PARSE_ERROR, f"Parse error: {exc.__class__.__name__}: {_brief(str(exc))}")

    def _dispatch(self, message: Any) -> None:
        if isinstance(message, list):
            self._reject_batch(message)
            return
        if not isinstance(message, dict):
            log.warning("dropped a message that is not a JSON object: %s", _brief(message))
            return
        if "method" not in message:
            self._response(message)
            return
        method, has_id, msg_id = message["method"], "id" in message, message.get("id")
        if message.get("jsonrpc") != self.VERSION or not isinstance(method, str) or (has_id and not _valid_id(msg_id)):
            if has_id:  # a request the client may be waiting on
                self.reply_error(msg_id if _valid_id(msg_id) else None, INVALID_REQUEST,
                                 "Invalid Request: needs jsonrpc \"2.0\", a string method and an integer or string id")
            else:
                log.warning("dropped an invalid notification: %s", _brief(message))
            return
        params = message.get("params")
        if method == t.CANCEL_REQUEST and not (isinstance(params, dict) and _valid_id(params.get("id"))):
            log.warning("dropped a %s without an integer or string id: %s", method, _brief(message))
            return
        if has_id and self._shutdown and method != t.EXIT:
            self.reply_error(msg_id, INVALID_REQUEST, f"Invalid Request: {method} after shutdown")
            return
        try:
            typed = self._structure(message, method, has_id)
        except Exception as exc:  # noqa: BLE001 - cattrs raises many kinds on hostile input
            known, problems = method in self.fm.builtin_features or method in self.fm.features, _problems(exc)
            if not has_id:
                log.warning("dropped notification %s: params do not deserialize: %s", method, problems)
            elif not known:
                self.reply_error(msg_id, METHOD_NOT_FOUND, f"Method Not Found: {method}")
            else:
                log.warning("request %r %s: invalid params: %s", msg_id, method, problems)
                self.reply_error(msg_id, INVALID_PARAMS, f"Invalid params for {method}: {problems}")
            return
        super().handle_message(typed)

    def _structure(self, message: dict[str, Any], method: str, has_id: bool) -> Any:
        fallback = JsonRPCRequestMessage if has_id else JsonRPCNotification
        return self._converter.structure(message, self.get_message_type(method) or fallback)

    def _response(self, message: dict[str, Any]) -> None:
        """A message without a method: the client's answer to one of our requests."""
        msg_id: Any = message.get("id")
        # Only send_request records a result type: the futures of the client's own requests in flight are
        # in _request_futures too, and a stray id must not resolve one of those.
        ours = _valid_id(msg_id) and msg_id in self._result_types
        pending = self._request_futures.get(msg_id) if ours else None
        if pending is None:
            log.warning("dropped a message with no method that answers no request of ours: %s", _brief(message))
            return
        result_type = self._result_types.pop(msg_id, None)
        try:
            if message.get("jsonrpc") != self.VERSION:
                raise ValueError(f"jsonrpc is {_brief(message.get('jsonrpc'))}, not \"2.0\"")
            if "error" in message:
                typed: Any = self._converter.structure(message, t.ResponseErrorMessage)
            else:  # a void answer without "result" is read as null, not left pending
                typed = self._converter.structure({"result": None, **message}, result_type or JsonRPCResponseMessage)
        except Exception as exc:  # noqa: BLE001
            problems = _problems(exc)
            log.warning("response %r does not deserialize: %s", msg_id, problems)
            self._request_futures.pop(msg_id, None)
            if not pending.done():
                pending.set_exception(JsonRpcException(f"malformed response: {problems}"))
            return
        super().handle_message(typed)

    def _reject_batch(self, items: list[Any]) -> None:
        reason = "Invalid Request: the Language Server Protocol has no batches; send each message on its own"
        ids = [m["id"] for m in items if isinstance(m, dict) and "method" in m and _valid_id(m.get("id"))]
        log.warning("rejected a batch of %d message(s)", len(items))
        for msg_id in ids:
            self.reply_error(msg_id, INVALID_REQUEST, reason)
        if not ids:
            self.reply_error(None, INVALID_REQUEST, reason)
