"""Delivery workers: send queued envelopes to peers until a receipt comes back or they expire.

Design: the outbox in SQLite is the queue of record (committed before anything is sent), so a
restarted node simply resumes it. Rows this process commits are handed straight to a bounded
queue per peer; one scheduler task polls every POLL_INTERVAL_S for the rest (retries whose time
has come, rows left at a restart, rows queued by the CLI from another process). Each peer has
MAX_IN_FLIGHT_PER_PEER sender tasks, so a slow or dead peer never holds up the others. A row
in flight is never handed out twice. A failure reschedules the row with exponential backoff
and jitter; the receipt is verified and stored before the row is marked delivered (the
service does both).
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from gateway.logs import get_logger
from gateway.service import NodeService
from gateway.store.store import OutboxItem

__all__ = ["DeliveryManager"]

# Picks up notices queued by another process (the CLI) within half a second.
POLL_INTERVAL_S = 0.5
DUE_BATCH = 512
# Enough concurrent requests to keep a peer's CPU busy over loopback or a WAN link, few enough
# not to overwhelm a small peer.
MAX_IN_FLIGHT_PER_PEER = 64
PEER_QUEUE_MAX = 1024
REQUEST_TIMEOUT_S = 30

log = get_logger()


class _PeerWorker:
    def __init__(self, manager: DeliveryManager, peer: str) -> None:
        self.peer = peer
        self.queue: asyncio.Queue[OutboxItem] = asyncio.Queue(PEER_QUEUE_MAX)
        self._manager = manager
        self._tasks = [
            asyncio.create_task(self._run(), name=f"deliver-{peer}-{i}")
            for i in range(MAX_IN_FLIGHT_PER_PEER)
        ]

    async def _run(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                await self._manager.deliver(item)
            finally:
                self._manager.done(item)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class DeliveryManager:
    """Owns the scheduler and the per-peer workers; `close` cancels and awaits them all."""

    def __init__(self, service: NodeService, session: aiohttp.ClientSession) -> None:
        self._service = service
        self._session = session
        self._in_flight: set[tuple[bytes, str]] = set()
        self._workers: dict[str, _PeerWorker] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._schedule(), name="delivery-scheduler")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.gather(*(w.close() for w in self._workers.values()))
        self._workers.clear()

    def enqueue(self, items: list[OutboxItem]) -> None:
        """Hand over rows this process just committed, without reading them back."""
        for item in items:
            key = (item.message_id, item.peer)
            worker = self._worker(item.peer)
            if key in self._in_flight or worker.queue.full():
                continue  # a full queue: the scheduler's next poll finds the row in the outbox
            self._in_flight.add(key)
            worker.queue.put_nowait(item)

    def done(self, item: OutboxItem) -> None:
        self._in_flight.discard((item.message_id, item.peer))

    def _worker(self, peer: str) -> _PeerWorker:
        worker = self._workers.get(peer)
        if worker is None:
            worker = self._workers[peer] = _PeerWorker(self, peer)
        return worker

    async def _schedule(self) -> None:
        """Poll for rows due: retries, rows left at a restart, rows queued by the CLI."""
        while True:
            due = await self._service.due_outbox(DUE_BATCH, frozenset(self._in_flight))
            for item in due:
                key = (item.message_id, item.peer)
                if key in self._in_flight:
                    continue
                self._in_flight.add(key)
                await self._worker(item.peer).queue.put(item)
            if len(due) < DUE_BATCH:
                await asyncio.sleep(POLL_INTERVAL_S)

    async def deliver(self, item: OutboxItem) -> None:
        endpoint = await self._service.peer_endpoint(item.peer)
        if endpoint is None:
            await self._service.record_failure(item, "peer is revoked or unknown")
            return
        url = endpoint.rstrip("/") + "/v1/envelopes"
        try:
            async with self._session.post(
                url,
                data=item.envelope,
                headers={"Content-Type": "application/x-protobuf"},
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as resp:
                body = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            await self._service.record_failure(item, f"cannot reach peer: {type(exc).__name__}")
            return
        if status == 200:
            await self._service.record_receipt(item, body)
        elif 400 <= status < 500:
            await self._service.record_rejection(item, body)
        else:
            await self._service.record_failure(item, f"peer answered HTTP {status}")
