"""Composition root: `open_node` wires config, keys, SOPs, store and service; `create_app`
adds the peer endpoint and delivery workers. Used by `gateway serve` and by tests alike."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from gateway.config import Config, load_config
from gateway.core import sop as sops
from gateway.core.envelope import MAX_ENVELOPE_BYTES
from gateway.errors import ConfigError
from gateway.net.audit_api import AUDIT, AuditWorker, HttpAuditClient, add_audit_routes
from gateway.net.delivery import DeliveryManager
from gateway.net.peer_api import SERVICE, add_peer_routes
from gateway.service import NodeService, system_clock_ms
from gateway.service_audit import AuditService
from gateway.service_lifecycle import DeadlineTimer
from gateway.store.audit_store import AuditStore
from gateway.store.keyfiles import load_keys
from gateway.store.store import Store

__all__ = ["CARD_FILE", "create_app", "load_sop_dir", "open_node"]

CARD_FILE = "card.gwcard"
DELIVERY = web.AppKey("delivery", DeliveryManager)


def load_sop_dir(sops_dir: Path) -> sops.SopSet:
    if not sops_dir.is_dir():
        raise ConfigError(f"SOP directory {sops_dir} does not exist")
    files = sorted(sops_dir.glob("*.toml"))
    if not files:
        raise ConfigError(f"SOP directory {sops_dir} holds no *.toml SOP files")
    return sops.load_sops((str(p), p.read_text(encoding="utf-8")) for p in files)


@contextlib.asynccontextmanager
async def open_node(
    data_dir: Path, *, clock: Callable[[], int] = system_clock_ms
) -> AsyncIterator[NodeService]:
    """Open a node's data directory as a service (no network); closes the store on exit."""
    config = load_config(data_dir)
    keys = load_keys(config.key_dir)
    sop_set = load_sop_dir(config.sops_dir)
    try:
        card_bytes = (data_dir / CARD_FILE).read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{data_dir / CARD_FILE} is missing; was this node made by `gateway init`?"
        ) from exc
    store = await Store.open(config.db_path, keys.storage_key)
    try:
        service = NodeService(
            config=config,
            keys=keys,
            store=store,
            sop_set=sop_set,
            card_bytes=card_bytes,
            clock=clock,
        )
        service.audit = AuditService(
            node_id=config.node_id,
            audit_key=keys.node.audit,
            store=AuditStore(store.db, store.audit),
            db_path=config.db_path,
            directory=service.directory,
            clock=clock,
        )
        yield service
    finally:
        await store.close()


def create_app(data_dir: Path, *, clock: Callable[[], int] = system_clock_ms) -> web.Application:
    """The node's peer-facing web application, with delivery workers running beside it."""
    # Room for the envelope plus HTTP framing; larger bodies are refused before they are read.
    app = web.Application(client_max_size=MAX_ENVELOPE_BYTES + 1024)

    async def node_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_node(data_dir, clock=clock) as service:
            app[SERVICE] = service
            async with aiohttp.ClientSession() as session:
                delivery = DeliveryManager(service, session)
                service.on_outbox = delivery.enqueue
                app[DELIVERY] = delivery
                delivery.start()
                assert service.audit is not None
                app[AUDIT] = service.audit
                auditor = AuditWorker(
                    service.audit,
                    HttpAuditClient(session),
                    checkpoint_interval_s=service.config.checkpoint_interval_s,
                    witness_interval_s=service.config.witness_interval_s,
                )
                await auditor.start()
                deadlines = DeadlineTimer(service, clock)  # SOP deadlines and retention
                deadlines.start()
                try:
                    yield
                finally:
                    await deadlines.close()
                    await delivery.close()
                    await auditor.close()  # after delivery: its last leaves get checkpointed

    app.cleanup_ctx.append(node_ctx)
    add_peer_routes(app)
    add_audit_routes(app)
    return app


def config_for(data_dir: Path) -> Config:
    return load_config(data_dir)
