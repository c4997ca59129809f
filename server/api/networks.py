"""Saved network graphs: create, list, read, replace, delete.

May import: fastapi, server modules, engine's public names.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from engine import check_network
from server.api.deps import SessionDep
from server.api.errors import ERRORS, NotFound, SpecRefused
from server.api.schemas import MAX_OFFSET, NetworkCreate, NetworkPage, NetworkPublic
from server.storage import repository as repo
from server.storage.db import NetworkRow

router = APIRouter(prefix="/networks", tags=["networks"])


def _get(session: SessionDep, net_id: str) -> NetworkRow:
    row = repo.get_network(session, net_id)
    if row is None:
        raise NotFound(f"no network with id {net_id!r}")
    return row


def _checked(body: NetworkCreate) -> NetworkCreate:
    """A saved network is a graph the page can open and train: its structure, kinds and
    parameters are checked (its shapes wait for a data set)."""
    errors = check_network(body.network)
    if errors:
        raise SpecRefused("the network is not a valid graph", errors)
    return body


@router.post("", response_model=NetworkPublic, status_code=201, responses=ERRORS)
def create_network(body: NetworkCreate, session: SessionDep) -> NetworkPublic:
    """Save a named network graph."""
    return repo.network_public(repo.add_network(session, _checked(body)))


@router.get("", response_model=NetworkPage, responses=ERRORS)
def list_networks(session: SessionDep, limit: int = Query(50, ge=1, le=500),
                  offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> NetworkPage:
    """Saved networks, newest first, a page at a time (as GET /runs)."""
    rows, total = repo.list_networks(session, limit, offset)
    return NetworkPage(items=[repo.network_public(r) for r in rows], total=total, limit=limit,
                       offset=offset)


@router.get("/{net_id}", response_model=NetworkPublic, responses=ERRORS)
def get_network(net_id: str, session: SessionDep) -> NetworkPublic:
    """One saved network."""
    return repo.network_public(_get(session, net_id))


@router.put("/{net_id}", response_model=NetworkPublic, responses=ERRORS)
def replace_network(net_id: str, body: NetworkCreate, session: SessionDep) -> NetworkPublic:
    """Replace a saved network's name and graph."""
    return repo.network_public(repo.replace_network(session, _get(session, net_id),
                                                        _checked(body)))


@router.delete("/{net_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete_network(net_id: str, session: SessionDep) -> Response:
    """Delete a saved network."""
    repo.delete_network(session, _get(session, net_id))
    return Response(status_code=204)
