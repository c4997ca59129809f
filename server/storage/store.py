"""The run manager's database side: one writer thread that applies every write in the order it
was queued, so that nothing on the event loop waits on the database.

The loop queues writes (`write`) and may await one (`written`). Any other thread (a plain
`def` route in FastAPI's threadpool) reads with `read`, which first waits for the writes
queued before it: a read sees every transition the loop has made. Never call `read` or
`synced` on the event loop (`read_now` there, for a finished run's row, is one short read).
May import: stdlib, sqlalchemy (sessions only).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
WRITER = "livegrad-db"
log = logging.getLogger("livegrad.store")


def _noop() -> None:
    return None


def _log_failure(fut: Future[Any]) -> None:
    if not fut.cancelled() and (exc := fut.exception()) is not None:
        log.error("a database write failed", exc_info=exc)


class Store:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=WRITER)

    def _in_session(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        with self.sessions() as s:
            return fn(s, *args, **kw)

    def write(self, fn: Callable[..., T], *args: Any, **kw: Any) -> Future[T]:
        """Queue fn(session, *args, **kw) for the writer thread; failures are logged."""
        fut = self._pool.submit(self._in_session, fn, *args, **kw)
        fut.add_done_callback(_log_failure)
        return fut

    def run(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue fn(*args) (no session) for the writer thread, in order with the writes."""
        fut = self._pool.submit(fn, *args)
        fut.add_done_callback(_log_failure)
        return fut

    async def written(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """write(), awaited on the loop: the result, or the write's exception."""
        return await asyncio.wrap_future(self._pool.submit(self._in_session, fn, *args, **kw))

    def after_writes(self, callback: Callable[[], None]) -> None:
        """Call callback (from the writer thread) once the writes queued so far are done."""
        self._pool.submit(_noop).add_done_callback(lambda _: callback())

    def synced(self) -> None:
        """Wait until the writes queued so far are done (a thread other than the loop's)."""
        if threading.current_thread().name.startswith(WRITER):
            return  # already behind them, in order
        self._pool.submit(_noop).result()

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(session, *args) in the calling thread, after the writes queued before it."""
        self.synced()
        return self._in_session(fn, *args)

    def read_now(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(session, *args) in the calling thread at once: for rows no queued write can
        touch (a run the manager no longer holds has had its last write)."""
        return self._in_session(fn, *args)

    def close(self) -> None:
        """Finish the queued writes; later ones are refused."""
        self._pool.shutdown(wait=True)
