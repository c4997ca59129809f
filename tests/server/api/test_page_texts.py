"""What the page's first load asks of the server and what its help texts say: /favicon.ico
answers with the page's icon (not a 404 in every visitor's console), and no catalog or preset
text leans on outside context (a course's "unit 3", "a phone predictor").

May import: stdlib, fastapi.testclient, tests.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"
OUTSIDE = re.compile(r"\bunit \d|phone", re.IGNORECASE)


def texts(value: Any, where: str = "") -> list[tuple[str, str]]:
    """Every string in a JSON value, with where it sits (e.g. presets[0].description)."""
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in texts(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in texts(v, f"{where}[{i}]")]
    return []


def test_favicon_is_served_both_ways(client: TestClient) -> None:
    for path in ("/favicon.ico", "/favicon.svg"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in r.content
    assert 'rel="icon" href="/favicon.svg"' in client.get("/").text


def test_catalog_texts_stand_on_their_own(client: TestClient) -> None:
    catalog = client.get(f"{API}/catalog").json()
    presets = client.get(f"{API}/catalog/presets").json()
    found = texts(catalog, "catalog") + texts(presets, "presets")
    assert any(w.endswith("description") for w, _ in found)  # the walk reached them
    leaning = [(w, t) for w, t in found if OUTSIDE.search(t)]
    assert not leaning, leaning
