"""A server shared on a classroom network (issue 12): the Host check (DNS rebinding), the
Origin and body-type checks of state-changing REST requests (CSRF), the access token on
REST and on the websocket (compared in constant time, Bearer only), the token kept out of
the log of a live server, `livegrad serve` refusing a network host without a token, and the
OpenAPI document saying all of it (401, the bearer scheme, every error in the one shape).

May import: stdlib, pytest, httpx, websockets, fastapi.testclient, server, tests.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from server import cli
from server.api.guards import origin_allowed
from server.api.schemas import Problem
from server.app import create_app
from server.logs import RedactTokens, log_config, redact
from server.settings import Settings
from tests.server.conftest import (
    ROOT,
    frame,
    make_settings,
    post_run,
    serving,
    wait_status,
    xor_spec,
)

API = "/api/v1"
TOKEN = "s3cret-Token_42"
NET = {"name": "n", "network": xor_spec()["networks"]["model"]}


def problem(r: httpx.Response, status: int, *words: str) -> Problem:
    assert r.status_code == status, r.text
    body = Problem.model_validate(r.json())
    assert set(r.json()) == {"detail", "errors"}
    for word in words:
        assert word in body.detail, body.detail
    return body


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The default server's settings (no extra hosts, no token), reached as localhost."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("plain"), warm_workers=0))
    with TestClient(app, base_url="http://localhost:8000") as c:
        yield c


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A class server: a token, one extra host name, one extra origin."""
    settings = make_settings(tmp_path_factory.mktemp("locked"), warm_workers=0,
                             access_token=TOKEN, allowed_hosts=["testserver", "class.example"],
                             allowed_origins=["https://class.example"])
    with TestClient(create_app(settings)) as c:
        yield c


def networks(c: TestClient, **headers: str) -> int:
    return int(c.get(f"{API}/networks", headers=headers).json()["total"])


# --- the Host check --------------------------------------------------------------------

def test_a_foreign_host_is_refused_and_changes_nothing(plain: TestClient) -> None:
    before = networks(plain)
    for host in ("evil.example", "evil.example:8000", "localhost.evil.example", "10.0.0.5"):
        r = plain.post(f"{API}/networks", json=NET, headers={"host": host})
        problem(r, 421, repr(host.split(":")[0]), "allowed_hosts")
        problem(plain.get(f"{API}/runs", headers={"host": host}), 421)
        problem(plain.get("/", headers={"host": host}), 421)  # the page too
    assert networks(plain) == before
    problem(plain.get(f"{API}/health", headers={"host": "bad host"}), 400, "Host")


def test_loopback_hosts_pass_on_any_port(plain: TestClient) -> None:
    for host in ("localhost", "localhost:8000", "127.0.0.1:5173", "127.0.0.2", "[::1]:8000",
                 "LOCALHOST", "[::1]"):
        assert plain.get(f"{API}/health", headers={"host": host}).status_code == 200, host


def test_configured_hosts_pass_and_wildcards_are_subdomains(tmp_path: Path) -> None:
    hosts = ["Class.Example:8000", "*.school.org", "fd00::5", "lab.example"]
    app = create_app(make_settings(tmp_path, allowed_hosts=hosts, host="10.0.0.7"))
    c = TestClient(app)  # no lifespan: the Host check answers before any route
    for host in ("class.example", "a.school.org", "[fd00::5]:80", "10.0.0.7:8000",
                 "lab.example:9000"):
        assert c.get("/openapi.json", headers={"host": host}).status_code == 200, host
    for host in ("school.org.evil.example", "evilschool.org", "10.0.0.8"):
        problem(c.get("/openapi.json", headers={"host": host}), 421)
    star = TestClient(create_app(make_settings(tmp_path, allowed_hosts=["*"])))
    assert star.get("/openapi.json", headers={"host": "any.example"}).status_code == 200


def test_the_websocket_checks_the_host_too(plain: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        with plain.websocket_connect(f"{API}/runs/nope/events", headers={"host": "evil.example"}):
            pass
    problem(info.value, 421, "'evil.example'")
    with pytest.raises(WebSocketDisconnect) as closed:  # a good host reaches the route
        with plain.websocket_connect(f"ws://localhost:8000{API}/runs/nope/events") as ws:
            ws.receive_text()  # accepted, then closed with the code
    assert closed.value.code == 4404


# --- the Origin check and JSON-only bodies (CSRF) ----------------------------------------

FOREIGN = [{"origin": "https://evil.example"}, {"origin": "null"},
           {"referer": "https://evil.example/page.html"},
           {"origin": "http://localhost.evil.example"}]


def test_state_changing_requests_from_a_foreign_origin_get_403(plain: TestClient) -> None:
    before = networks(plain)
    for headers in FOREIGN:
        problem(plain.post(f"{API}/networks", json=NET, headers=headers), 403,
                "allowed_origins")
        problem(plain.post(f"{API}/runs/nope/pause", headers=headers), 403)
        problem(plain.delete(f"{API}/runs/nope", headers=headers), 403)
        problem(plain.request("PATCH", f"{API}/runs/nope", json={"lr": 1}, headers=headers), 403)
        problem(plain.put(f"{API}/networks/nope", json=NET, headers=headers), 403)
        assert plain.get(f"{API}/runs", headers=headers).status_code == 200  # reads pass
    assert networks(plain) == before


def test_same_origin_loopback_and_scripts_pass(plain: TestClient, locked: TestClient) -> None:
    ok: list[dict[str, str]] = [
        {}, {"origin": "http://localhost:8000"}, {"origin": "http://127.0.0.1:5173"},
        {"referer": "http://localhost:8000/#run=x"}]
    for headers in ok:  # past the check: the route answers (404 for an unknown run)
        problem(plain.post(f"{API}/runs/nope/pause", headers=headers), 404, "nope")
    auth = {"authorization": f"Bearer {TOKEN}"}
    for origin in ("http://testserver", "https://class.example"):
        r = locked.post(f"{API}/runs/nope/stop", headers={**auth, "origin": origin})
        problem(r, 404)
    problem(locked.post(f"{API}/runs/nope/stop", headers={**auth, "origin": "https://x.example"}),
            403)


def test_a_text_plain_simple_request_cannot_reach_a_route(plain: TestClient) -> None:
    """The cross-site 'simple request' shape, even without an Origin header."""
    before = networks(plain)
    import json
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"):
        r = plain.post(f"{API}/networks", content=json.dumps(NET), headers={"content-type": kind})
        problem(r, 415, "application/json")
        problem(plain.post(f"{API}/runs/nope/pause", content=b"",
                           headers={"content-type": kind}), 415)
    assert networks(plain) == before
    r = plain.post(f"{API}/networks", content=json.dumps(NET),
                   headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_rest_and_websocket_share_one_origin_rule(locked: TestClient) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    for origin, allowed in (("http://testserver", True), ("http://localhost:1", True),
                            ("https://class.example", True), ("https://evil.example", False),
                            ("null", False)):
        assert origin_allowed(origin, "testserver", ["https://class.example"]) is allowed
        rest = locked.post(f"{API}/runs/nope/stop", headers={**auth, "origin": origin})
        assert rest.status_code == (404 if allowed else 403), origin
        with pytest.raises(WebSocketDisconnect) as info:
            with locked.websocket_connect(f"{API}/runs/nope/events",
                                          headers={**auth, "origin": origin}) as ws:
                ws.receive_text()  # accepted, then closed with the code
        assert info.value.code == (4404 if allowed else 4403), origin


# --- the access token ------------------------------------------------------------------

def test_rest_takes_only_a_bearer_token(locked: TestClient) -> None:
    url = f"{API}/runs"
    r = problem(locked.get(url), 401, "Authorization: Bearer")
    assert [e.message for e in r.errors] == [r.detail]  # every refusal lists one error at least
    for bad in (f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN, f"Token {TOKEN}",
                f"Bearer {TOKEN[:-1]}"):
        problem(locked.get(url, headers={"authorization": bad}), 401)
    resp = locked.get(url)
    assert resp.headers["www-authenticate"].startswith("Bearer")
    problem(locked.get(f"{url}?token={TOKEN}"), 401)  # REST: the header only, never the URL
    for good in (f"Bearer {TOKEN}", f"bearer {TOKEN}", f"Bearer   {TOKEN}"):
        assert locked.get(url, headers={"authorization": good}).status_code == 200, good
    # the check comes before the route: no token, nothing created
    problem(locked.post(f"{API}/networks", json=NET), 401)
    assert networks(locked, authorization=f"Bearer {TOKEN}") == 0


def _ws_close(c: TestClient, url: str, **kw: Any) -> int:
    with pytest.raises(WebSocketDisconnect) as info:
        with c.websocket_connect(url, **kw) as ws:
            ws.receive_text()  # accepted, then closed with the code
    return info.value.code


def test_the_websocket_takes_a_header_a_subprotocol_or_the_query(locked: TestClient) -> None:
    url = f"{API}/runs/nope/events"  # the token is checked first: 4401, else 4404
    assert _ws_close(locked, url) == 4401
    for bad in ({"headers": {"authorization": f"Bearer {TOKEN}x"}},
                {"headers": {"authorization": f"Basic {TOKEN}"}},
                {"subprotocols": [f"livegrad.token.{TOKEN}x"]},
                {"subprotocols": [TOKEN]}):
        assert _ws_close(locked, url, **bad) == 4401, bad
    assert _ws_close(locked, f"{url}?token=wrong") == 4401
    for good in ({"headers": {"authorization": f"Bearer {TOKEN}"}},
                 {"subprotocols": ["other", f"livegrad.token.{TOKEN}"]}):
        assert _ws_close(locked, url, **good) == 4404, good
    assert _ws_close(locked, f"{url}?token={TOKEN}") == 4404


def test_a_websocket_with_the_token_subprotocol_gets_it_echoed(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = make_settings(tmp_path_factory.mktemp("echo"), access_token=TOKEN)
    auth = {"authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings), headers=auth) as c:
        run = post_run(c, xor_spec(epochs=1))
        wait_status(c, run.id, {"completed"})
        protocol = f"livegrad.token.{TOKEN}"
        with c.websocket_connect(f"{API}/runs/{run.id}/events", headers={},
                                 subprotocols=[protocol]) as ws:
            assert ws.accepted_subprotocol == protocol
            assert frame(ws.receive())["type"] == "hello"


# --- the log ---------------------------------------------------------------------------

def test_redaction_of_a_log_record() -> None:
    assert redact("GET /api/v1/runs/x/events?since=3&token=abc&batch=true") == \
        "GET /api/v1/runs/x/events?since=3&token=***&batch=true"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("1.2.3.4:5", "GET", "/a?token=abc", "1.1", 401), None)
    RedactTokens().filter(record)
    assert "abc" not in record.getMessage() and "token=***" in record.getMessage()
    assert all("redact_tokens" in h["filters"] for h in log_config()["handlers"].values())


@pytest.fixture(scope="module")
def live_locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`livegrad serve` with an access token; yields its URL and its log file."""
    folder = tmp_path_factory.mktemp("live-locked")
    env = {"LIVEGRAD_ACCESS_TOKEN": TOKEN, "LIVEGRAD_WARM_WORKERS": "0"}
    with serving(folder, env, token=TOKEN) as url:
        yield url, folder / "server.log"


def test_the_token_never_reaches_the_log_of_a_live_server(
        live_locked: tuple[str, Path]) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url, log = live_locked
    with httpx.Client(base_url=url, trust_env=False) as c:
        assert c.get(f"{API}/runs?limit=5&token={TOKEN}").status_code == 401
        assert c.get(f"{API}/runs", params={"token": TOKEN, "x": 1}).status_code == 401
        ok = c.get(f"{API}/runs?limit=5", headers={"authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        assert c.get(f"{API}/catalog?access_token={TOKEN}").status_code == 401
    ws_url = url.replace("http", "ws") + f"{API}/runs/nope/events"
    for kw in ({"uri": f"{ws_url}?since=-1&token={TOKEN}"},
               {"uri": ws_url, "subprotocols": [f"livegrad.token.{TOKEN}"]},
               {"uri": f"{ws_url}?token={TOKEN}x"}):
        try:  # refused at the handshake (4404 before accepting: uvicorn answers 403)
            with connect(**kw, open_timeout=10) as ws:  # type: ignore[arg-type]
                ws.recv(timeout=10)
        except (InvalidStatus, Exception):  # noqa: B014 - any refusal will do
            pass
    text = _read_log_when(log, lambda t: t.count("token=***") >= 4)
    assert TOKEN not in text, text
    assert f"{API}/runs?limit=5&token=***" in text  # the line is there, its value is not


def _read_log_when(log: Path, ready: Any) -> str:
    import time
    deadline = time.monotonic() + 10
    while True:
        text = log.read_text(errors="replace")
        if ready(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.1)


# --- refusing to serve a network host without a token ----------------------------------

@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    for name in ("LIVEGRAD_ACCESS_TOKEN", "LIVEGRAD_ALLOW_NO_TOKEN", "LIVEGRAD_HOST"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_serve_refuses_a_network_host_without_a_token(
        served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = ["--data-dir", str(tmp_path)]
    for host in ("0.0.0.0", "::", "10.0.0.5", "class.example"):
        assert cli.main(["serve", "--host", host, *data]) == 2
        err = capsys.readouterr().err
        assert f"refusing to serve {host!r} without an access token" in err
        assert "LIVEGRAD_ACCESS_TOKEN" in err and "--allow-no-token" in err
    assert served == []
    for host in ("127.0.0.1", "localhost", "::1"):  # loopback: no token needed
        assert cli.main(["serve", "--host", host, *data]) == 0
    assert cli.main(["serve", "--host", "0.0.0.0", "--allow-no-token", *data]) == 0
    monkeypatch.setenv("LIVEGRAD_ALLOW_NO_TOKEN", "1")
    assert cli.main(["serve", "--host", "0.0.0.0", *data]) == 0
    monkeypatch.delenv("LIVEGRAD_ALLOW_NO_TOKEN")
    monkeypatch.setenv("LIVEGRAD_ACCESS_TOKEN", TOKEN)
    assert cli.main(["serve", "--host", "0.0.0.0", *data]) == 0
    assert len(served) == 6
    assert all("redact_tokens" in kw["log_config"]["filters"] for kw in served)


def test_serve_refuses_before_it_imports_the_engine(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGRAD_")}
    out = subprocess.run([sys.executable, "-c", "import sys; from server.cli import main; "
                          "r = main(sys.argv[1:]); assert 'torch' not in sys.modules; "
                          "raise SystemExit(r)", "serve", "--host", "0.0.0.0", "--data-dir",
                          str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2, out.stderr
    assert "refusing to serve '0.0.0.0' without an access token" in out.stderr


# --- the OpenAPI document and the one error shape ---------------------------------------

def test_openapi_documents_the_token_and_every_error_in_one_shape(plain: TestClient) -> None:
    doc = plain.get("/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["accessToken"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op["security"] == [{"accessToken": []}], (method, path)
            for code in ("400", "401", "403", "415", "421", "422", "500"):
                ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Problem"), (method, path, code)
    page = doc["paths"]["/api/v1/networks"]["get"]["responses"]["200"]
    assert page["content"]["application/json"]["schema"]["$ref"].endswith("/NetworkPage")


def test_query_errors_of_the_lists_are_the_documented_shape(plain: TestClient) -> None:
    for url in (f"{API}/runs?limit=0", f"{API}/networks?offset=-1", f"{API}/runs?status=x"):
        body = problem(plain.get(url), 422, "the request does not match its schema")
        assert body.errors and body.errors[0].field is not None


def test_networks_are_paginated_like_runs(plain: TestClient) -> None:
    made = [plain.post(f"{API}/networks", json={**NET, "name": f"p{i}"}).json()["id"]
            for i in range(3)]
    page = plain.get(f"{API}/networks?limit=2&offset=0").json()
    assert set(page) == {"items", "total", "limit", "offset"}
    assert page["limit"] == 2 and page["offset"] == 0 and page["total"] >= 3
    assert len(page["items"]) == 2
    rest = plain.get(f"{API}/networks?limit=500&offset=2").json()
    ids = [n["id"] for n in page["items"] + rest["items"]]
    assert set(made) <= set(ids) and len(ids) == len(set(ids)) == page["total"]


def test_a_server_bug_is_a_500_in_the_one_shape(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaput")

    app.router.routes.insert(0, app.router.routes.pop())  # before the page's mount at /

    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    problem(r, 500, "internal server error (RuntimeError)")


def test_security_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEGRAD_ALLOWED_HOSTS", "class.example, 10.0.0.5,")
    monkeypatch.setenv("LIVEGRAD_ACCESS_TOKEN", "  ")  # blank: no token, not an empty one
    monkeypatch.setenv("LIVEGRAD_ALLOW_NO_TOKEN", "1")
    settings = Settings()
    assert settings.allowed_hosts == ["class.example", "10.0.0.5"]
    assert settings.access_token is None and settings.allow_no_token
    assert cli.unsafe(Settings(host="0.0.0.0")) is None  # told so
    monkeypatch.delenv("LIVEGRAD_ALLOW_NO_TOKEN")
    assert cli.unsafe(Settings(host="0.0.0.0")) is not None
