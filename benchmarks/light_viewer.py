"""A viewer that costs its own machine almost nothing: an RFC 6455 client that reads whole
socket buffers and walks the frame headers, skipping the payloads (a text frame is only
searched for the run's terminal event). A class's browsers parse what they get on their own
machines; on this loopback machine a full client library (tens of µs of Python per frame)
would compete with the run it watches for the same two cores, and the benchmark would
measure the viewers instead of the server. The server's side (its encoding, fan-out, sends,
back-pressure) is exactly what a browser gets.

May import: stdlib.
"""

from __future__ import annotations

import base64
import os
import selectors
import socket
import struct
from urllib.parse import urlsplit

TERMINAL_MARKS = (b'"type":"run_completed"', b'"type":"run_stopped"', b'"type":"run_failed"')
TEXT, BINARY, CLOSE, PING = 0x1, 0x2, 0x8, 0x9


def client_frame(opcode: int, payload: bytes = b"") -> bytes:
    """A masked client frame (a client must mask; the key may be anything)."""
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126  # control frames only
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + masked


def ask(url: str) -> socket.socket:
    """A connected socket that has sent its upgrade request (the answer: `upgraded`)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    return sock


def upgraded(sock: socket.socket) -> socket.socket:
    """Read the handshake's answer (byte by byte: what follows it is the first frame's);
    non-blocking from here on."""
    head = b""
    while b"\r\n\r\n" not in head:
        more = sock.recv(1)
        if not more:
            raise RuntimeError("the server closed during the handshake")
        head += more
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status:
        raise RuntimeError(f"no websocket: {status!r}")
    sock.setblocking(False)
    return sock


def frames(buf: bytearray) -> tuple[list[tuple[int, int, int]], int]:
    """(opcode, payload start, payload end) of each whole frame in buf, and the bytes used."""
    found, at, n = [], 0, len(buf)
    while n - at >= 2:
        opcode, size, start = buf[at] & 0x0F, buf[at + 1] & 0x7F, at + 2
        if size == 126:
            if n - start < 2:
                break
            (size,), start = struct.unpack_from("!H", buf, start), start + 2
        elif size == 127:
            if n - start < 8:
                break
            (size,), start = struct.unpack_from("!Q", buf, start), start + 8
        if n - start < size:
            break
        found.append((opcode, start, start + size))
        at = start + size
    return found, at


class Viewer:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = upgraded(sock)
        self.buf = bytearray()
        self.frames = 0

    def take(self, chunk: bytes) -> bool:
        """Count the whole frames received so far; True once the run's end (or a close)
        came."""
        buf = self.buf
        buf += chunk
        found, used = frames(buf)
        done = False
        for opcode, start, end in found:
            if opcode in (TEXT, BINARY, 0):
                self.frames += 1
            if opcode == TEXT and any(buf.find(m, start, end) >= 0 for m in TERMINAL_MARKS):
                self.sock.send(client_frame(CLOSE, struct.pack("!H", 1000)))
                done = True
            elif opcode == PING:
                self.sock.send(client_frame(0xA, bytes(buf[start:end])))
            elif opcode == CLOSE:
                done = True
        del buf[:used]
        return done


def watch_all(urls: list[str]) -> list[int]:
    """Connect one viewer per url, read every frame to each one's end in one selector loop
    (one thread, no event loop: a few µs of Python per socket read), and return the
    frames each received."""
    asked = [ask(url) for url in urls]  # every request first: the server answers them at once
    viewers = [Viewer(sock) for sock in asked]
    sel = selectors.DefaultSelector()
    for v in viewers:
        sel.register(v.sock, selectors.EVENT_READ, v)
    open_ = len(viewers)
    while open_:
        for key, _ in sel.select(timeout=30):
            v: Viewer = key.data
            try:
                chunk = v.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            if not chunk or v.take(chunk):
                sel.unregister(v.sock)
                v.sock.close()
                open_ -= 1
    return [v.frames for v in viewers]
