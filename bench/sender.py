"""The sending node for the end-to-end benchmark, run as its own process.

It serves a real node (peer endpoint and delivery workers, as `gateway serve` does) and drives
it through the service: notices are drafted and approved first (as officers do, at their
pace), then each is timed from `send_draft` (plan, seal, durable outbox) to its receipt being
verified and stored. Prints one JSON object on stdout.

    python -m bench.sender DATA_DIR NOTICE_FILE COUNT WINDOW
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway._pb.gateway.v1 import notice_pb2
from gateway.config import load_config
from gateway.core import notice as notices
from gateway.logs import configure_logging
from gateway.net.peer_api import SERVICE
from gateway.node import create_app
from gateway.service import NodeService


async def run(data_dir: Path, document: dict[str, Any], count: int, window: int) -> dict[str, Any]:
    config = load_config(data_dir)
    app = create_app(data_dir)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.listen_host, config.listen_port)
    await site.start()
    try:
        service: NodeService = app[SERVICE]
        # Officers draft and approve at human pace; what the benchmark times is the exchange:
        # from `send_draft` (plan, seal, durable outbox) to the receipt verified and stored.
        # So every notice is drafted and approved (four-eyes, audited) before the clock starts.
        template = notices.parse_notice_document(document, source="bench")
        approved: list[str] = []
        drafting = asyncio.Semaphore(64)

        async def prepare() -> None:
            async with drafting:
                notice = notice_pb2.Notice()
                notice.CopyFrom(template)
                drafted = await service.draft_notice(notice, drafter="bench-drafter")
                await service.approve(drafted.notice_id, approver="bench-approver")
                approved.append(drafted.notice_id)

        await asyncio.gather(*(prepare() for _ in range(count)))
        pending: dict[str, tuple[float, asyncio.Future[float]]] = {}
        by_message: dict[bytes, str] = {}

        def delivered(item: Any, receipt: Any) -> None:
            notice_id = by_message.pop(item.message_id, None)
            if notice_id is None:
                return
            started, fut = pending.pop(notice_id)
            if not fut.done():
                fut.set_result(time.perf_counter() - started)

        service.on_delivered = delivered
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(window)
        latencies: list[float] = []

        async def one(notice_id: str) -> None:
            async with slots:
                started = time.perf_counter()
                fut: asyncio.Future[float] = loop.create_future()
                result = await service.send_draft(notice_id, actor="bench-drafter")
                # No await between send returning and this: the receipt cannot be missed.
                pending[result.notice_id] = (started, fut)
                for _, message_id in result.message_ids:
                    by_message[message_id] = result.notice_id
                latencies.append(await asyncio.wait_for(fut, 60))

        begin = time.perf_counter()
        await asyncio.gather(*(one(n) for n in approved))
        elapsed = time.perf_counter() - begin
        return {"count": count, "window": window, "seconds": elapsed, "latencies_s": latencies}
    finally:
        await runner.cleanup()


def main() -> None:
    data_dir, notice_file, count, window = sys.argv[1:5]
    configure_logging("bench-sender", json=True, level=logging.WARNING)
    text = Path(notice_file).read_text()
    document = json.loads(text) if notice_file.endswith(".json") else tomllib.loads(text)
    result = asyncio.run(run(Path(data_dir), document, int(count), int(window)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
