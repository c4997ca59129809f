"""The one-way dependencies, checked on the source: web -> server -> engine -> torch.

The server may use only the engine's public names (`from engine import ...`) and never torch
itself; the engine knows nothing of HTTP, websockets, the database or the server.
(import-linter checks the engine's side too, on the import graph: see pyproject.toml.)
May import: stdlib, pytest.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ENGINE_FORBIDDEN = {
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "server",
    "websockets",
    "httpx",
}


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Yield (line, absolute module name, is `from engine import ...`) for each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, False
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, True


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_server_uses_only_the_engines_public_names() -> None:
    files = _sources("server")
    if not files:
        pytest.skip("server/ has no .py files yet")
    problems = []
    for path in files:
        for line, module, is_from in _imports(path):
            root = module.split(".")[0]
            if root == "torch":
                problems.append(f"{_where(path, line)}: imports {module}; the engine owns torch")
            elif root == "engine" and (module != "engine" or not is_from):
                problems.append(
                    f"{_where(path, line)}: imports {module}; "
                    "use the public names only: `from engine import ...`"
                )
    assert not problems, "server/ crosses the engine boundary:\n" + "\n".join(problems)


def test_engine_knows_nothing_of_the_server_or_web_stack() -> None:
    files = _sources("engine")
    if not files:
        pytest.skip("engine/ has no .py files yet")
    problems = [
        f"{_where(path, line)}: imports {module}"
        for path in files
        for line, module, _ in _imports(path)
        if module.split(".")[0] in ENGINE_FORBIDDEN
    ]
    assert not problems, "engine/ must not import the server or web stack:\n" + "\n".join(
        problems
    )
