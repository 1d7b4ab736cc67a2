"""A local stand-in for Slack's Socket Mode server, for end-to-end tests.

An RFC 6455 WebSocket server on 127.0.0.1 (standard library only) that speaks Slack's envelope
protocol: every new connection gets ``hello``; ``deliver`` sends a ``slash_commands``,
``interactive`` or ``events_api`` envelope and ``acks`` records the app's answers
(``{"envelope_id": ..., "payload": ...}``) with their arrival time. It can ask the app to
reconnect (``disconnect`` with reason ``refresh_requested`` or ``warning``), ping it, answer its
pings, close a connection properly, or drop one silently:

- ``blackhole``: stop reading and writing, keep the TCP connection open (a dead NAT or network
  path: nothing arrives, nothing fails);
- ``fin``: close the TCP connection without a WebSocket close frame (a crashed peer);
- ``rst``: reset the TCP connection.

Wire it to the Web API stand-in so ``apps.connections.open`` hands out its URLs:

    web = SlackStandIn().start()
    socket_mode = SocketModeStandIn().start().attach(web)
    ...  # start the app with SLACK_APP_TOKEN=xapp-... and SLACK_API_URL=web.url
    conn = socket_mode.wait_connected()
    envelope = socket_mode.deliver("events_api", {...})
    ack = socket_mode.wait_ack(envelope.envelope_id)

Nothing happens on a timer: every disconnect, close, drop and ping is the test's own call, so
runs are deterministic. Envelopes asked for while no connection is live wait for the next one,
as Slack's do; their ack time is counted from the moment they were asked for.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_FRAME = 1 << 20
KINDS = ("slash_commands", "interactive", "events_api")


@dataclass
class Envelope:
    envelope_id: str
    type: str
    payload: dict
    accepts_response_payload: bool
    requested_at: float                 # time.monotonic() when the test asked for it
    sent_at: float | None = None        # when it was written to a socket
    connection: int | None = None       # the connection it went out on
    wire: dict = field(default_factory=dict)


@dataclass
class Ack:
    envelope_id: str
    payload: Any
    received_at: float                  # time.monotonic()
    connection: int
    raw: dict = field(default_factory=dict)


@dataclass
class Connection:
    """One accepted WebSocket. `state`: open → retiring (told to disconnect) → closed | dropped."""

    id: int
    sock: socket.socket
    path: str = ""
    state: str = "handshake"
    opened_at: float = 0.0
    hello_at: float | None = None
    closed_at: float | None = None
    close_code: int | None = None
    client_pings: list[bytes] = field(default_factory=list)
    pongs: list[tuple[bytes, float]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    send_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def live(self) -> bool:
        return self.state == "open"


def _frame(opcode: int, payload: bytes = b"") -> bytes:
    """A server frame (servers never mask, RFC 6455 §5.1)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def _accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


class _ProtocolError(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


class SocketModeStandIn:
    def __init__(self, app_id: str = "A0DEFUSE"):
        self.app_id = app_id
        self.port = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._ids = itertools.count(1)
        self._tickets: dict[str, bool] = {}     # ticket -> used
        self._refused: set[str] = set()
        self._connections: list[Connection] = []
        self._pending: list[Envelope] = []
        self._envelopes: dict[str, Envelope] = {}
        self._acks: list[Ack] = []
        self._stopping = False
        self.urls_issued = 0

    # ---- lifecycle
    def start(self) -> SocketModeStandIn:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop, "socket-standin-accept")
        return self

    def attach(self, web: Any) -> SocketModeStandIn:
        """Let the Web API stand-in answer apps.connections.open with this server's URLs."""
        web.socket_mode = self
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            connections = list(self._connections)
        for conn in connections:
            self._shut(conn, "closed")
        if self._listener is not None:
            self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> SocketModeStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the Web API side (called by the Web API stand-in)
    def refuse(self, app_token: str) -> None:
        """apps.connections.open with this token answers invalid_auth (a revoked app token)."""
        with self._lock:
            self._refused.add(app_token)

    def accept(self, app_token: str) -> None:
        """Undo refuse(): the token works again."""
        with self._lock:
            self._refused.discard(app_token)

    def is_refused(self, app_token: str) -> bool:
        with self._lock:
            return app_token in self._refused

    def issue_url(self) -> str:
        with self._lock:
            ticket = uuid.uuid4().hex
            self._tickets[ticket] = False
            self.urls_issued += 1
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # ---- inspection
    @property
    def connections(self) -> list[Connection]:
        with self._lock:
            return list(self._connections)

    @property
    def acks(self) -> list[Ack]:
        with self._lock:
            return list(self._acks)

    def current(self) -> Connection | None:
        """The newest live connection: where the next envelope goes."""
        with self._lock:
            return next((c for c in reversed(self._connections) if c.live), None)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
        """Wait on the server's own state changes (no polling sleep) until predicate() is truthy."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    states = [(c.id, c.state) for c in self._connections]
                    raise AssertionError(f"socket stand-in: timed out after {timeout}s waiting for "
                                         f"{what or predicate}; connections {states}")
                self._changed.wait(min(left, 0.25))

    def wait_connected(self, after: int = 0, timeout: float = 10.0) -> Connection:
        """Wait for a live connection whose id is above `after` (0: any) and that got hello."""
        return self.wait_for(
            lambda: next((c for c in reversed(self._connections)
                          if c.live and c.id > after and c.hello_at is not None), None),
            timeout, f"a live connection newer than #{after}")

    def wait_closed(self, conn: Connection, timeout: float = 10.0) -> Connection:
        return self.wait_for(lambda: conn.state in ("closed", "dropped") and conn, timeout,
                             f"connection #{conn.id} to close")

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        return self.wait_for(lambda: next((a for a in self._acks if a.envelope_id == envelope_id), None),
                             timeout, f"the ack of {envelope_id}")

    def envelope(self, envelope_id: str) -> Envelope:
        with self._lock:
            return self._envelopes[envelope_id]

    def ack_seconds(self, envelope_id: str, timeout: float = 10.0) -> float:
        """Seconds from asking for the envelope to its ack."""
        ack = self.wait_ack(envelope_id, timeout)
        return ack.received_at - self.envelope(envelope_id).requested_at

    # ---- driving the app
    def deliver(self, kind: str, payload: dict, *, accepts_response_payload: bool | None = None,
                retry_attempt: int = 0, retry_reason: str = "") -> Envelope:
        """Send an envelope on the newest live connection, or on the next one when none is live."""
        if kind not in KINDS:
            raise ValueError(f"envelope type must be one of {KINDS}")
        if accepts_response_payload is None:
            accepts_response_payload = kind == "slash_commands" or payload.get("type") == "view_submission"
        envelope_id = str(uuid.uuid4())
        extra = {"retry_attempt": retry_attempt, "retry_reason": retry_reason} if kind == "events_api" else {}
        wire = {"envelope_id": envelope_id, "payload": payload, "type": kind,
                "accepts_response_payload": accepts_response_payload, **extra}
        envelope = Envelope(envelope_id, kind, payload, accepts_response_payload, time.monotonic(), wire=wire)
        with self._lock:
            self._envelopes[envelope_id] = envelope
            self._pending.append(envelope)
            self._pump()
        return envelope

    def disconnect(self, reason: str = "refresh_requested", conn: Connection | None = None) -> Connection:
        """Tell the app to reconnect, as Slack does every few hours; the connection stays open
        (Slack closes it later) but gets no more envelopes."""
        conn = conn or self._require_current()
        message = {"type": "disconnect", "reason": reason,
                   "debug_info": {"host": "applink-standin"}}
        with self._lock:
            conn.state = "retiring" if conn.state == "open" else conn.state
            self._changed.notify_all()
        self._send(conn, OP_TEXT, json.dumps(message).encode())
        return conn

    def close_connection(self, conn: Connection | None = None, code: int = 1001, reason: str = "") -> Connection:
        """A proper close: close frame, then the socket once the app answers (or at once if it is gone)."""
        conn = conn or self._require_current()
        with self._lock:
            if conn.state in ("open", "retiring"):
                conn.state = "closing"
            self._changed.notify_all()
        self._send(conn, OP_CLOSE, struct.pack("!H", code) + reason.encode())
        return conn

    def drop(self, mode: str = "blackhole", conn: Connection | None = None) -> Connection:
        """Lose the connection without a close frame (see the module docstring for the modes)."""
        if mode not in ("blackhole", "fin", "rst"):
            raise ValueError("mode is blackhole, fin or rst")
        conn = conn or self._require_current()
        if mode == "blackhole":
            with self._lock:
                conn.state, conn.closed_at = "dropped", time.monotonic()
                self._changed.notify_all()
            return conn  # the socket stays open; the reader discards what arrives
        if mode == "rst":
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._shut(conn, "dropped", graceful=mode == "fin")
        return conn

    def ping(self, payload: bytes = b"standin-ping", conn: Connection | None = None, timeout: float = 5.0) -> float:
        """Ping the app; returns seconds until its pong with the same payload arrived."""
        conn = conn or self._require_current()
        sent = time.monotonic()
        self._send(conn, OP_PING, payload)
        pong = self.wait_for(lambda: next((at for data, at in conn.pongs if data == payload and at >= sent), None),
                             timeout, f"a pong for {payload!r}")
        return pong - sent

    # ---- internals
    def _require_current(self) -> Connection:
        conn = self.current()
        if conn is None:
            raise AssertionError("socket stand-in: no live connection")
        return conn

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()  # type: ignore[union-attr]
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                conn = Connection(next(self._ids), sock, opened_at=time.monotonic())
                self._connections.append(conn)
            self._spawn(self._serve, f"socket-standin-conn-{conn.id}", conn)

    def _serve(self, conn: Connection) -> None:
        try:
            if not self._handshake(conn):
                return
            self._send_hello(conn)
            self._read_frames(conn)
        except _ProtocolError as exc:
            self._send(conn, OP_CLOSE, struct.pack("!H", exc.code) + exc.reason.encode())
            self._shut(conn, "closed")
        except OSError:
            if conn.state != "dropped":
                self._shut(conn, "closed")

    def _handshake(self, conn: Connection) -> bool:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.sock.recv(4096)
            if not chunk or len(request) > 16384:
                self._shut(conn, "closed")
                return False
            request += chunk
        head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, path, _ = (head[0].split(" ") + ["", "", ""])[:3]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        conn.path = path
        ticket = parse_qs(urlsplit(path).query).get("ticket", [""])[0]
        with self._lock:
            valid = self._tickets.get(ticket) is False and not self._stopping
            if valid:
                self._tickets[ticket] = True  # a URL is good for one connection
        problem = None
        if method != "GET" or headers.get("upgrade", "").lower() != "websocket" \
                or "upgrade" not in headers.get("connection", "").lower() \
                or headers.get("sec-websocket-version") != "13" or not headers.get("sec-websocket-key"):
            problem = "400 Bad Request"
        elif not valid:
            problem = "401 Unauthorized"
        if problem:
            conn.sock.sendall(f"HTTP/1.1 {problem}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            self._shut(conn, "closed")
            return False
        conn.sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Accept: {_accept_key(headers['sec-websocket-key'])}\r\n\r\n").encode())
        return True

    def _send_hello(self, conn: Connection) -> None:
        with self._lock:
            live = sum(1 for c in self._connections if c.live) + 1
        hello = {"type": "hello", "num_connections": live,
                 "debug_info": {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060},
                 "connection_info": {"app_id": self.app_id}}
        with self._lock:
            conn.state = "open"
            self._send(conn, OP_TEXT, json.dumps(hello).encode())
            conn.hello_at = time.monotonic()
            self._changed.notify_all()
            self._pump()

    def _read_exact(self, conn: Connection, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.sock.recv(size - len(data))
            if not chunk:
                raise OSError("connection closed by the app")
            data += chunk
        return data

    def _read_frame(self, conn: Connection) -> tuple[bool, int, bytes]:
        first, second = self._read_exact(conn, 2)
        fin, opcode, masked, size = bool(first & 0x80), first & 0x0F, bool(second & 0x80), second & 0x7F
        if first & 0x70:
            raise _ProtocolError(1002, "reserved bits set")
        if not masked:
            raise _ProtocolError(1002, "client frames must be masked")
        if size == 126:
            (size,) = struct.unpack("!H", self._read_exact(conn, 2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._read_exact(conn, 8))
        if size > MAX_FRAME:
            raise _ProtocolError(1009, "frame too big")
        mask = self._read_exact(conn, 4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exact(conn, size)))
        return fin, opcode, data

    def _read_frames(self, conn: Connection) -> None:
        message, message_op = b"", None
        while True:
            fin, opcode, data = self._read_frame(conn)
            if conn.state == "dropped":
                continue  # blackholed: swallow everything, answer nothing
            if opcode == OP_PING:
                conn.client_pings.append(data)
                self._send(conn, OP_PONG, data)
            elif opcode == OP_PONG:
                with self._lock:
                    conn.pongs.append((data, time.monotonic()))
                    self._changed.notify_all()
            elif opcode == OP_CLOSE:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                if conn.state != "closing":  # the app closed first: answer in kind
                    self._send(conn, OP_CLOSE, data[:2])
                conn.close_code = code
                self._shut(conn, "closed")
                return
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                if opcode != OP_CONT:
                    message, message_op = b"", opcode
                message += data
                if fin and message_op == OP_TEXT:
                    self._on_text(conn, message.decode("utf-8"))
            else:
                raise _ProtocolError(1002, f"unknown opcode {opcode}")

    def _on_text(self, conn: Connection, text: str) -> None:
        received = time.monotonic()
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        with self._lock:
            conn.texts.append(text)
            if isinstance(body, dict) and body.get("envelope_id"):
                self._acks.append(Ack(body["envelope_id"], body.get("payload"), received, conn.id, body))
            self._changed.notify_all()

    def _pump(self) -> None:
        """Send waiting envelopes on the newest live connection (lock held)."""
        conn = self.current()
        if conn is None:
            return
        while self._pending:
            envelope = self._pending.pop(0)
            self._send(conn, OP_TEXT, json.dumps(envelope.wire).encode())
            envelope.sent_at, envelope.connection = time.monotonic(), conn.id

    def _send(self, conn: Connection, opcode: int, payload: bytes) -> None:
        if conn.state in ("dropped", "closed"):
            return
        with conn.send_lock:
            try:
                conn.sock.sendall(_frame(opcode, payload))
            except OSError:
                pass  # the reader notices and marks the connection closed

    def _shut(self, conn: Connection, state: str, graceful: bool = True) -> None:
        """Close the TCP connection (FIN; with graceful=False and SO_LINGER 0, a reset)."""
        with self._lock:
            if conn.state not in ("closed", "dropped"):
                conn.state = state
            if conn.closed_at is None:
                conn.closed_at = time.monotonic()
            self._changed.notify_all()
        if graceful:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        conn.sock.close()
