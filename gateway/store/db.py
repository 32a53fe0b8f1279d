"""The database connection: WAL, migrations, and a group-committing writer.

Problem: the receiver must commit before it answers (durable before ack), and a commit per
envelope through aiosqlite costs a thread hop per statement plus an fsync per envelope.
Options: a fixed batching window (caps throughput at in-flight / window), a commit per request
(slow), or commit as soon as the writer is free, taking whatever is queued. We take the last:
one writer task drains the queue, runs every queued job in one transaction in a single hop to
the database thread (each job in its own SAVEPOINT, so one failing job cannot undo the others),
commits, and then resolves each job's future. Readers use a second connection (WAL lets them
run beside the writer).

aiosqlite has no public call for "run this function in your thread", so `_run` uses its
`Connection._execute`; pyproject pins aiosqlite to the 0.22 series, and every test that writes
exercises the call.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from gateway.errors import ConfigError
from gateway.store.migrations import MIGRATIONS

__all__ = ["Database", "Job"]

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], T]

# Bounded so that a flood of writes waits (back-pressure) instead of growing memory.
WRITE_QUEUE_MAX = 4096
# Another process (the CLI) may hold the write lock briefly; wait rather than fail.
BUSY_TIMEOUT_MS = 10_000


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a commit survives power loss, not only a process crash (durable before ack).
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _migrate(conn: sqlite3.Connection) -> None:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > len(MIGRATIONS):
        raise ConfigError(
            f"database schema version {version} is newer than this gateway "
            f"({len(MIGRATIONS)}); upgrade gateway"
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1].split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


class Database:
    """One node's SQLite database: `write` jobs are group-committed, `read` jobs run beside."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._queue: asyncio.Queue[tuple[Job[Any], asyncio.Future[Any]]] = asyncio.Queue(
            WRITE_QUEUE_MAX
        )
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path) -> Database:
        try:
            writer = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open database {path}: {exc}") from exc
        reader: aiosqlite.Connection | None = None
        try:
            await _run(writer, _configure)
            await _run(writer, _migrate)
            reader = await aiosqlite.connect(path, isolation_level=None)
            await _run(reader, _configure)
        except BaseException as exc:
            # Close what we opened: an open aiosqlite connection's thread keeps the process alive.
            for conn in (reader, writer):
                if conn is not None:
                    await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise ConfigError(f"cannot open database {path}: {exc}") from exc
            raise
        db = cls(writer, reader)
        db._task = asyncio.create_task(db._write_loop(), name="db-writer")
        return db

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        while not self._queue.empty():
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(ConnectionError("database closed"))
        await self._reader.close()
        await self._writer.close()

    async def write(self, job: Job[T]) -> T:
        """Run `job` inside a transaction; returns once it is committed."""
        if self._task is None:
            raise ConnectionError("database closed")
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put((job, fut))
        return await fut

    async def read(self, job: Job[T]) -> T:
        return await _run(self._reader, job)

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await _run(self._writer, _commit_batch, [job for job, _ in batch])
            except Exception as exc:  # the commit itself failed: every job in it failed
                results = [(False, exc)] * len(batch)
            for (_, fut), (ok, value) in zip(batch, results, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)


def _commit_batch(conn: sqlite3.Connection, jobs: list[Job[Any]]) -> list[tuple[bool, Any]]:
    results: list[tuple[bool, Any]] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for job in jobs:
            conn.execute("SAVEPOINT job")
            try:
                results.append((True, job(conn)))
                conn.execute("RELEASE job")
            except Exception as exc:
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                results.append((False, exc))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results


async def _run(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    result: T = await conn._execute(fn, conn._conn, *args)  # type: ignore[no-untyped-call]
    return result
