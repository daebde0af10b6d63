"""HTML to PDF in worker processes, off the server's request loop.

WeasyPrint's layout is pure Python and holds the interpreter for seconds: built in the server's
process, it slows every other page served meanwhile. A request renders its HTML (quick), then
awaits `PdfPool.build`, which lays it out in separate processes. A long report that marks where it
may be cut (`pdf_parts.PART_BREAK`, the monthly pack) is laid out in parts, one per worker at once,
then joined with its page numbers stamped (`pdf_join.py`); another is laid out whole by one worker.

The app starts the workers at start-up (`start`), in the background: each new worker lays out a
small report first (`pdf_layout.warm`), as loading WeasyPrint, Pango and the fonts takes seconds
that the first PDF asked would otherwise wait for. The pool is recreated after a worker dies (that
request gets `PdfUnavailable`), and shut down with the app.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from sync_server.pdf_join import join, part_to_pdf
from sync_server.pdf_layout import html_to_pdf, start_worker
from sync_server.pdf_parts import head, split

T = TypeVar("T")


class PdfUnavailable(Exception):
    """A worker building the PDF died (out of memory, killed): the request may be retried."""


class PdfPool:
    """A small, lazily created process pool; `workers` layouts at a time, the rest queue."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._ready: Any = None

    def executor(self) -> Executor:
        with self._lock:
            if self._pool is None:
                # "spawn": a fresh interpreter, not a fork of a server holding threads and open
                # database connections. Each worker warms up first and then says so on `_ready`.
                context = multiprocessing.get_context("spawn")
                self._ready = context.SimpleQueue()
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=start_worker,
                    initargs=(self._ready,),
                )
            return self._pool

    def start(self) -> Future[int]:
        """Start every worker, each laying out its warm-up report; returns at once a future of
        the warm-up PDF's size, done once every worker is warm. PDFs asked meanwhile queue
        behind the warm-ups, which are shorter than a cold start."""
        pool = self.executor()
        ready = self._ready
        warmed: Future[int] = Future()

        def wait_for_every_worker() -> None:
            sizes = [ready.get() for _ in range(self.workers)]
            warmed.set_result(min(sizes))

        # Asked together, before any is done: the pool starts a worker for each.
        for _ in range(self.workers):
            pool.submit(int)
        threading.Thread(target=wait_for_every_worker, daemon=True).start()
        return warmed

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
        parts = split(html, self.workers)
        if len(parts) == 1:
            return await self.run(html_to_pdf, html)
        laid_out = await asyncio.gather(
            *(self.run(part_to_pdf, part) for part in parts), return_exceptions=True
        )
        pdfs = []
        for result in laid_out:
            if isinstance(result, BaseException):
                raise result
            pdfs.append(result)
        return await self.run(join, pdfs, head(html))

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
