"""HTML to PDF in worker processes, off the server's request loop.

WeasyPrint's layout is pure Python and holds the interpreter for seconds: built in the server's
process, it slows every other page served meanwhile. A request renders its HTML (quick), then
awaits `PdfPool.build`, which lays it out in a separate process. The app starts the worker at
start-up (`start`), in the background: a new worker spends seconds loading WeasyPrint, Pango and
the fonts, which the first PDF asked would otherwise wait for. The pool is recreated after a worker
dies (that request gets `PdfUnavailable`), and shut down with the app.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from sync_server.pdf_layout import html_to_pdf, warm

T = TypeVar("T")


class PdfUnavailable(Exception):
    """The worker building the PDF died (out of memory, killed): the request may be retried."""


class PdfPool:
    """A small, lazily created process pool; `workers` builds at a time, the rest queue."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> Executor:
        with self._lock:
            if self._pool is None:
                # "spawn": a fresh interpreter, not a fork of a server holding threads and open
                # database connections.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
            return self._pool

    def start(self) -> Future[int]:
        """Start the worker and have it load WeasyPrint and the fonts; returns at once. PDFs
        asked meanwhile queue behind the warm-up, which is shorter than a cold start."""
        return self.executor().submit(warm)

    def _discard(self, broken: Executor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in a worker (both picklable); PdfUnavailable if the worker died."""
        pool = self.executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool as error:
            self._discard(pool)
            raise PdfUnavailable from error

    async def build(self, html: str) -> bytes:
        return await self.run(html_to_pdf, html)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
