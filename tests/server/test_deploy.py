"""The Dockerfile and docker-compose.yml cannot be built here (no Docker engine): check what
can be checked by reading them against the code they start.

May import: stdlib, sqlalchemy, server, tests.
"""

from __future__ import annotations

import json
import re

from sqlalchemy.engine import make_url

from server.cli import parser
from tests.server.conftest import ROOT

COMPOSE = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_compose_starts_the_server_on_postgres_with_a_data_volume() -> None:
    command = json.loads(re.search(r"command: (\[.*\])", COMPOSE).group(1))  # type: ignore[union-attr]
    args = parser().parse_args(command[1:])
    assert command[0] == "livegrad" and args.command == "serve" and args.data_dir == "/data"
    assert re.search(r"- data:/data\b", COMPOSE)
    url = make_url(re.search(r"LIVEGRAD_DATABASE_URL: (\S+)", COMPOSE).group(1))  # type: ignore[union-attr]
    assert url.get_dialect().driver == "psycopg" and url.host == "db"
    assert '"127.0.0.1:8000:8000"' in COMPOSE  # published on the host's loopback only
    # 0.0.0.0 without a token starts only when told so (published on loopback only)
    assert re.search(r'LIVEGRAD_ALLOW_NO_TOKEN: "1"', COMPOSE)


def test_dockerfile_installs_the_pinned_cpu_torch_and_the_constraints() -> None:
    assert DOCKERFILE.startswith("#") and "FROM python:3.11-slim" in DOCKERFILE
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE
    assert "sed -n 's/^torch==//p' constraints.txt" in DOCKERFILE
    assert "pip install -c constraints.txt" in DOCKERFILE
    assert "npm ci" in DOCKERFILE and "COPY --from=web /web/node_modules" in DOCKERFILE
    for src in re.findall(r"^COPY (?!--from)(\S+) ", DOCKERFILE, flags=re.M):
        assert (ROOT / src).exists(), f"the Dockerfile copies {src}, which does not exist"
    cmd = json.loads(re.search(r"^CMD (\[.*\])", DOCKERFILE, flags=re.M).group(1))  # type: ignore[union-attr]
    assert parser().parse_args(cmd[1:]).data_dir == "/data"
    assert "'Bearer ' + t" in DOCKERFILE  # the health check passes a configured token
