"""What every `gateway` sub-command module shares: exit codes, output helpers, opening a node."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from gateway.service import NodeService

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "fmt_ms", "print_json", "run_with_node"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")


def fmt_ms(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def run_with_node(args: argparse.Namespace, fn: Callable[[NodeService], Awaitable[T]]) -> T:
    """Open the node in `args.data_dir` (no network), run `fn` with its service, close it."""
    from gateway.node import open_node

    async def go() -> T:
        async with open_node(args.data_dir) as service:
            return await fn(service)

    return asyncio.run(go())
