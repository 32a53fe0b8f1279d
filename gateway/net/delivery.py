"""Delivery workers: send queued envelopes to peers until a receipt comes back or they expire.

Design: the outbox in SQLite is the queue of record (committed before anything is sent), so a
restarted node simply resumes it. One scheduler task reads due rows, at most every
POLL_INTERVAL_S or at once when woken (a local send), and hands them to a bounded queue per
peer; each peer has MAX_IN_FLIGHT_PER_PEER sender tasks, so a slow or dead peer never holds up
the others. A row in flight is never handed out twice. A failure reschedules the row with
exponential backoff and jitter; the receipt is verified and stored before the row is marked
delivered (the service does both). The CLI queues notices from another process, which the
scheduler picks up at its next poll.
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
        self._wake = asyncio.Event()
        self._in_flight: set[tuple[bytes, str]] = set()
        self._workers: dict[str, _PeerWorker] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._schedule(), name="delivery-scheduler")

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.gather(*(w.close() for w in self._workers.values()))
        self._workers.clear()

    def done(self, item: OutboxItem) -> None:
        self._in_flight.discard((item.message_id, item.peer))
        if not self._in_flight:
            self._wake.set()

    async def _schedule(self) -> None:
        while True:
            self._wake.clear()
            due = await self._service.due_outbox(DUE_BATCH)
            for item in due:
                key = (item.message_id, item.peer)
                if key in self._in_flight:
                    continue
                self._in_flight.add(key)
                worker = self._workers.get(item.peer)
                if worker is None:
                    worker = self._workers[item.peer] = _PeerWorker(self, item.peer)
                await worker.queue.put(item)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL_S)

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
