"""A small federation of real nodes for the end-to-end tests, and the checks they share.

Every node is a `python -m gateway serve` process on 127.0.0.1 (gateway.localnet.LocalNode);
everything the tests ask a node goes through the `gateway` command, as an operator would.
A node start-up and every CLI call cost a Python interpreter start (0.5-1 s), so each card is
exported once and reused for every `peer add`, the nodes are set up side by side (one thread
per node, each waiting on its own child processes), and test modules share one federation.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from gateway.localnet import LocalNode, wait_for

__all__ = [
    "APPROVER",
    "DRAFTER",
    "NODES",
    "NOTICES",
    "ROOT",
    "SOPS",
    "Federation",
    "MakeFederation",
    "inbox",
    "inbox_rows",
    "parse_cli_time",
    "send",
    "status",
    "wait_delivered",
]

ROOT = Path(__file__).resolve().parent.parent.parent
NOTICES = ROOT / "tests" / "fixtures" / "notices"
SOPS = ROOT / "sops"

# node id -> (country, name). Countries drive the SOP roles: in the fixtures' case the victim
# comes from Brazil (origin), crossed Honduras (transit) and was found in France (destination).
NODES = {
    "fr-ncp": ("FR", "France - OCRTEH (destination)"),
    "br-ncp": ("BR", "Brazil - national focal point (origin)"),
    "hn-ncp": ("HN", "Honduras - national focal point (transit)"),
    "gt-ncp": ("GT", "Guatemala - national focal point (not in the case)"),
}

DELIVERY_TIMEOUT_S = 30.0


class Federation:
    """Nodes made with `gateway init` under one directory; `close` stops every process."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.nodes: dict[str, LocalNode] = {}
        self._cards: dict[str, tuple[Path, str]] = {}

    def __getitem__(self, node_id: str) -> LocalNode:
        return self.nodes[node_id]

    def add(
        self, node_ids: Iterable[str], *, sop_files: Mapping[str, Iterable[Path]] | None = None
    ) -> None:
        """`gateway init` the nodes; `sop_files` gives a node its own SOP directory."""
        new = []
        for node_id in node_ids:
            country, name = NODES[node_id]
            node = LocalNode(node_id, country, name, self.base / node_id)
            if sop_files and node_id in sop_files:
                node.sops_dir = self.base / f"{node_id}-sops"
                node.sops_dir.mkdir()
                for path in sop_files[node_id]:
                    shutil.copy(path, node.sops_dir / path.name)
            self.nodes[node_id] = node
            new.append(node)
        _each(LocalNode.init, new)

    def card(self, node_id: str) -> tuple[Path, str]:
        """The node's card file and fingerprint, from `gateway card export` (once per node)."""
        if node_id not in self._cards:
            self._cards[node_id] = self.nodes[node_id].export_card()
        return self._cards[node_id]

    def trust(self, truster: str, trusted: Iterable[str]) -> None:
        """`gateway peer add` on `truster` for each of `trusted`, with the right fingerprint."""
        for node_id in trusted:
            card, fingerprint = self.card(node_id)
            self.nodes[truster].gateway("peer", "add", str(card), "--fingerprint", fingerprint)

    def trust_all(self) -> None:
        _each(self.card, list(self.nodes))
        _each(lambda t: self.trust(t, [n for n in self.nodes if n != t]), list(self.nodes))

    def start(self, *node_ids: str) -> None:
        _each(LocalNode.start, [self.nodes[n] for n in node_ids or self.nodes])

    def ensure_running(self, *node_ids: str) -> None:
        """Start any of the nodes that is not running (a test before may have stopped it)."""
        for node_id in node_ids or tuple(self.nodes):
            node = self.nodes[node_id]
            if node.process is not None and node.process.poll() is not None:
                node.process = None  # it died: forget the old process and start afresh
            if node.process is None:
                node.start()

    def close(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL); never leaves a process behind."""
        errors: list[Exception] = []
        for node in self.nodes.values():
            try:
                node.stop()
            except Exception as exc:  # stop the others all the same, then report it
                errors.append(exc)
                node.kill()
        if errors:
            raise errors[0]


class MakeFederation(Protocol):
    """The `make_federation` fixture (tests/e2e/conftest.py)."""

    def __call__(
        self,
        *node_ids: str,
        sop_files: Mapping[str, Iterable[Path]] | None = None,
        trust_all: bool = True,
        start: bool = True,
    ) -> Federation: ...


def _each(action: Callable[[Any], object], items: list[Any]) -> None:
    """Run `action` on every item side by side; raises the first error once all are done."""
    with ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
        for _ in pool.map(action, items):
            pass


# Two officers of the sending node: the SOPs in sops/ need four-eyes approval.
DRAFTER, APPROVER = "officer-a", "officer-b"


def send(node: LocalNode, notice: Path) -> dict[str, Any]:
    """Draft, approve (as a second officer, if the SOP asks) and send; `send --json` output."""
    drafted = node.json("draft", str(notice), "--user", DRAFTER)
    if drafted["state"] != "approved":
        node.gateway("approve", drafted["notice_id"], "--user", APPROVER)
    result: dict[str, Any] = node.json("send", drafted["notice_id"], "--user", DRAFTER)
    return result


def status(node: LocalNode, notice_id: str) -> dict[str, Any]:
    result: dict[str, Any] = node.json("status", notice_id)
    return result


def inbox(node: LocalNode) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = node.json("inbox")
    return rows


def inbox_rows(node: LocalNode, notice_id: str) -> list[dict[str, Any]]:
    return [row for row in inbox(node) if row["notice_id"] == notice_id]


def wait_delivered(
    node: LocalNode, notice_id: str, *, timeout: float = DELIVERY_TIMEOUT_S
) -> dict[str, Any]:
    """Wait until every recipient of the sender's notice is `delivered`; returns the status."""
    last: dict[str, Any] = {}

    def delivered() -> dict[str, Any] | None:
        nonlocal last
        last = status(node, notice_id)
        done = last["recipients"] and all(r["state"] == "delivered" for r in last["recipients"])
        return last if done else None

    try:
        result: dict[str, Any] = wait_for(
            delivered, timeout=timeout, what=f"{notice_id} to be delivered"
        )
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; last status: {last}") from None
    return result


def parse_cli_time(text: str) -> datetime:
    """The CLI's time format, "2025-03-14 08:30:00 UTC"; ValueError for "-" (no time)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %Z")
