"""Subscription, not inheritance: handlers receive immutable events, filtered by type and
thinned with `every=N` (every N-th matching event), and can be removed by their handle.
May import: stdlib, engine.core.events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.core.events import EVENT_TYPES, TERMINAL_TYPES, Event

Handler = Callable[[Event], None]


@dataclass(eq=False)
class Subscription:
    handler: Handler
    types: frozenset[str] | None
    every: int
    owner: Subscribers
    seen: int = field(default=0)

    def remove(self) -> None:
        """Stop receiving events; removing twice is harmless."""
        self.owner.discard(self)


class Subscribers:
    def __init__(self) -> None:
        self._subs: list[Subscription] = []

    def add(self, handler: Handler, *, types: Iterable[str] | None = None,
            every: int = 1) -> Subscription:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        wanted = frozenset(types) if types is not None else None
        unknown = sorted((wanted or frozenset()) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}")
        sub = Subscription(handler, wanted, every, self)
        self._subs.append(sub)
        return sub

    def discard(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, event: Event) -> None:
        for sub in list(self._subs):
            if sub.types is not None and event.type not in sub.types:
                continue
            sub.seen += 1
            # terminal events always reach their subscribers, whatever `every` says
            if (sub.seen - 1) % sub.every == 0 or event.type in TERMINAL_TYPES:
                sub.handler(event)
