"""Faults, against `livegrad serve` processes as a user starts them: a SIGKILLed server leaves
no process behind and, restarted on the same data folder, still has its interrupted run's
events and metrics up to the last FLUSH_S; websocket refusals are close codes after the
handshake; a queued run's socket says hello; a client that stops reading is closed with 1013.

May import: stdlib, pytest, httpx, websockets, server, engine's public names, tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.api.frames import to_event
from server.runs.hub import EVENTS_FILE, Hub, append_history, read_lines
from tests.server import pg
from tests.server.conftest import DEADLINE_S, ROOT, long_spec

API = "/api/v1"


class Server:
    """`livegrad serve` in its own process group (so that every process it starts can be
    found by group after it dies), on a free port and `data_dir`."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = pg.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}{API}"
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        script = Path(sys.executable).with_name("livegrad")
        cmd = [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]
        environ = {**os.environ, "LIVEGRAD_WARM_WORKERS": "1",
                   **{f"LIVEGRAD_{k.upper()}": v for k, v in env.items()}}
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen([*cmd, "serve", "--port", str(self.port), "--data-dir",
                                      str(data_dir)], cwd=ROOT, stdout=self.log,
                                     stderr=self.log, env=environ, start_new_session=True)
        self.http = httpx.Client(base_url=self.url, timeout=30, trust_env=False,
                                 headers=_auth(env.get("access_token")))
        deadline = time.monotonic() + DEADLINE_S
        while self.proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if self.http.get(f"{API}/health", timeout=2).is_success:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the server did not come up: {self.log_path.read_text()}")

    def post(self, spec: dict[str, Any], **params: Any) -> dict[str, Any]:
        r = self.http.post(f"{API}/runs", json=spec, params=params)
        assert r.status_code == 201, r.text
        return r.json()

    def run(self, run_id: str) -> dict[str, Any]:
        return self.http.get(f"{API}/runs/{run_id}").json()

    def wait(self, run_id: str, ok: Any) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE_S
        while not ok(run := self.run(run_id)):
            assert time.monotonic() < deadline, f"run stayed {run}"
            time.sleep(0.05)
        return run

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever a failed test left
        self.log.close()


def _auth(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


def group(pgid: int) -> list[tuple[int, str]]:
    """The living processes of a process group, (pid, command line), read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) != pgid or fields[0] == "Z":  # zombies are dead, not reaped
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        found.append((int(entry.name), cmdline))
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    started: list[Server] = []

    def start(**env: str) -> Server:
        s = Server(tmp_path / "data", **env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.close()


def test_a_killed_server_leaves_no_process_behind(server: Any) -> None:
    s = server()
    run = s.post(long_spec())
    s.wait(run["id"], lambda r: r["step"] >= 1)
    assert s.http.post(f"{API}/runs/{run['id']}/pause").status_code == 200
    s.wait(run["id"], lambda r: r["status"] == "paused")
    members = group(s.proc.pid)
    assert len(members) >= 3, members  # the server, a worker (or two), the resource tracker
    s.kill()
    deadline = time.monotonic() + 5
    while (left := group(s.proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], f"still alive 5 s after the server's SIGKILL: {left}"


def test_a_crash_loses_at_most_the_last_moment(server: Any) -> None:
    s = server()
    run = s.post(long_spec())
    run_id = run["id"]
    seen: list[tuple[float, int, int]] = []  # (when, step, seq) of each event a client saw
    with connect(f"{s.ws}/runs/{run_id}/events?subscribe=", open_timeout=30) as ws:
        hello = json.loads(ws.recv(timeout=30))
        assert hello["type"] == "hello"
        while not seen or time.monotonic() - seen[0][0] < 3:  # 3 s of training seen
            ev = json.loads(ws.recv(timeout=30))
            if ev.get("type") == "steps_completed":
                seen.append((time.monotonic(), ev["step"], ev["seq"]))
        killed = time.monotonic()
        s.kill()
    # what the client had seen 1 s before the kill must survive it
    _, step_1s, seq_1s = max((e for e in seen if e[0] <= killed - 1.0), key=lambda e: e[0])
    _, step_last, _ = seen[-1]

    again = server()
    after = again.run(run_id)
    assert after["status"] == "interrupted"
    metrics = again.http.get(f"{API}/runs/{run_id}/metrics",
                             params={"max_points": 100000, "names": "loss"}).json()
    kept_step = metrics["series"]["loss"]["steps"][-1]
    assert kept_step >= step_1s, (kept_step, step_1s, step_last)
    with connect(f"{again.ws}/runs/{run_id}/events", open_timeout=30) as ws:
        hello = json.loads(ws.recv(timeout=30))
        assert hello["type"] == "hello" and hello["status"] == "interrupted"
        events, last = [], -1
        while last < hello["last_seq"]:  # binary frames (the latest of each kind) included
            message = ws.recv(timeout=30)
            event = to_event(message) if isinstance(message, bytes) else json.loads(message)
            last = max(last, event["seq"])
            if isinstance(message, str):
                events.append(event)
    assert events[0]["type"] == "run_started"
    steps = [e for e in events if e["type"] == "steps_completed"]
    assert steps and steps[-1]["step"] >= step_1s and hello["last_seq"] >= seq_1s
    losses = sum(len(e["metrics"]["loss"]) for e in steps)  # every step, from the first on
    assert steps[0]["first_step"] == 1 and losses == steps[-1]["step"]
    def lost_s(step: int) -> float:  # how long before the kill the client saw that step
        return killed - max([t for t, seen_step, _ in seen if seen_step <= step], default=0)

    print(f"crash window: the client saw step {step_last} last; after the restart the history "
          f"ends at step {steps[-1]['step']} ({lost_s(steps[-1]['step']):.2f} s before the "
          f"kill) and /metrics at {kept_step} ({lost_s(kept_step):.2f} s)")


def _close_code(url: str, **kw: Any) -> int:
    with pytest.raises(ConnectionClosed) as info:
        with connect(url, open_timeout=30, **kw) as ws:
            ws.recv(timeout=30)
    assert info.value.rcvd is not None, "closed without a close frame"
    return info.value.rcvd.code


def test_refusals_are_the_documented_close_codes(server: Any) -> None:
    s = server(access_token="sesame")
    run = s.post(long_spec(), paused="true")
    events = f"{s.ws}/runs/{run['id']}/events"
    assert _close_code(f"{s.ws}/runs/nope/events?token=sesame") == 4404
    assert _close_code(events) == 4401
    assert _close_code(f"{events}?token=wrong") == 4401
    assert _close_code(f"{events}?token=sesame", origin="https://evil.example") == 4403
    with connect(f"{events}?token=sesame", open_timeout=30) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "hello"
    s.http.post(f"{API}/runs/{run['id']}/stop")


def test_a_queued_run_says_hello(server: Any) -> None:
    s = server(max_concurrent_runs="1")
    first = s.post(long_spec(), paused="true")
    queued = s.post(long_spec())
    assert queued["status"] == "queued"
    with connect(f"{s.ws}/runs/{queued['id']}/events", open_timeout=30) as ws:
        hello = json.loads(ws.recv(timeout=10))
    assert hello["type"] == "hello" and hello["status"] == "queued"
    assert hello["last_seq"] == -1
    for run in (queued, first):
        s.http.post(f"{API}/runs/{run['id']}/stop")


def test_a_client_that_stops_reading_is_closed_with_1013(server: Any) -> None:
    stall_s = 2.0
    s = server(ws_stall_s=str(stall_s))
    spec = long_spec()
    spec["training"]["telemetry"].update(grid_every=1, grid_resolution=64)  # 20 grids a second
    run = s.post(spec)
    s.wait(run["id"], lambda r: r["step"] >= 1)
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # no autotuning: 64 KiB
    with connect(f"{s.ws}/runs/{run['id']}/events", sock=sock, open_timeout=30,
                 max_queue=1, ping_interval=None) as ws:  # no pings: it reads nothing at all
        assert json.loads(ws.recv(timeout=30))["type"] == "hello"
        stopped = time.monotonic()  # from here on the client reads nothing
        time.sleep(stall_s + 3)  # the server's buffers fill (< 1 MiB), then stall_s passes
        assert s.run(run["id"])["status"] == "running"  # training never waited
        with pytest.raises(ConnectionClosed) as info:
            while True:  # what the socket held, then the close
                ws.recv(timeout=30)
        closed = time.monotonic()
    assert info.value.rcvd is not None, f"dropped without a close frame: {info.value!r}"
    assert info.value.rcvd.code == 1013 and "stopped reading" in info.value.rcvd.reason
    assert closed - stopped < stall_s + 10
    s.http.post(f"{API}/runs/{run['id']}/stop")


def test_an_appended_history_reads_back_without_its_torn_line(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "r1"
    events = [json.dumps({"type": "warning", "seq": i, "message": f"m{i}"}) for i in range(5)]
    append_history(folder, events[:3], {"grid_computed": (1, b"frame-1")})
    append_history(folder, events[3:], {"grid_computed": (4, b"frame-4")})
    with (folder / EVENTS_FILE).open("a", encoding="utf-8") as f:
        f.write('{"type":"warning","seq":5,"mess')  # the crash cut the last write
    assert read_lines(folder / EVENTS_FILE) == events
    hub = Hub(tmp_path / "runs", history_events=100)
    ch = hub._channel("r1")  # noqa: SLF001  (read here, off any loop)
    assert [seq for seq, _ in ch.history] == [0, 1, 2, 3, 4] and ch.finished
    assert ch.heavy == {"grid_computed": (4, b"frame-4")}
    hub.close()
