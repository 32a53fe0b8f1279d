"""The audit endpoints peers call, the client that calls them, and the node's audit tasks.

    GET  /v1/audit/checkpoint      our latest signed checkpoint (C2SP tlog-checkpoint note,
    GET  /v1/checkpoint            text/plain); 404 before the first one
    GET  /v1/audit/consistency?from=N&to=M
                                   PROOF(N, M) of our log: text/plain, one base64 hash per
                                   line (empty when N = M); 400 with a plain message when N or
                                   M is not a whole number, N < 1, N > M or M > the tree size
    POST /v1/audit/cosignature     body: our checkpoint with the witness's cosignature line
                                   (a signed note); 200, or 4xx with a plain message

No transport authentication is needed: checkpoints and cosignatures are signed notes that the
receiver verifies with keys from the cards it pinned, and a proof is checked against signed
roots. Handlers are thin: parse, call gateway/service_audit.py, map errors to statuses.

`AuditWorker` owns the two background tasks: a checkpoint every CHECKPOINT_INTERVAL_S while
the log grows (and one at shutdown), and a witnessing round every WITNESS_INTERVAL_S.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import web

from gateway.core import merkle
from gateway.core.audit_checkpoint import MAX_PROOF_HASHES, decode_proof, encode_proof
from gateway.core.signed_note import MAX_NOTE_BYTES
from gateway.errors import DeliveryError, NotFound, PeerError
from gateway.service_audit import AuditService

__all__ = [
    "AUDIT",
    "CHECKPOINT_INTERVAL_S",
    "WITNESS_INTERVAL_S",
    "AuditWorker",
    "HttpAuditClient",
    "add_audit_routes",
]

AUDIT = web.AppKey("audit", AuditService)
TEXT = "text/plain"
# DESIGN.md section 8 / issue 4: a checkpoint at least every 10 s while the log grows. Checking
# for growth is one indexed read, so this costs nothing on an idle node.
CHECKPOINT_INTERVAL_S = 10.0
# Witnessing needs one round trip or two per peer; once a minute bounds how long a fork can go
# unseen without loading peers.
WITNESS_INTERVAL_S = 60.0
REQUEST_TIMEOUT_S = 10
MAX_SIZE_DIGITS = 20  # 2**64 has 20 digits


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", content_type=TEXT)


async def get_checkpoint(request: web.Request) -> web.Response:
    latest = await request.app[AUDIT].latest_checkpoint()
    if latest is None:
        return _text(404, "this node has not signed a checkpoint yet")
    return web.Response(body=latest.note, content_type=TEXT, charset="utf-8")


def _size(request: web.Request, name: str) -> int:
    value = request.query.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > MAX_SIZE_DIGITS:
        raise web.HTTPBadRequest(
            text=f"{name} must be a whole number, got {value[:30]!r}\n", content_type=TEXT
        )
    return int(value)


async def get_consistency(request: web.Request) -> web.Response:
    first, second = _size(request, "from"), _size(request, "to")
    try:
        proof = await request.app[AUDIT].consistency(first, second)
    except merkle.ProofError as exc:
        return _text(400, str(exc))
    return web.Response(body=encode_proof(proof), content_type=TEXT)


async def post_cosignature(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_NOTE_BYTES:
        return _text(413, f"a cosigned checkpoint is at most {MAX_NOTE_BYTES} bytes")
    body = await request.read()
    try:
        witnesses = await request.app[AUDIT].receive_cosignature(body)
    except PeerError as exc:
        return _text(exc.status, str(exc))
    except NotFound as exc:
        return _text(404, str(exc))
    return _text(200, "stored cosignature from " + ", ".join(witnesses))


def add_audit_routes(app: web.Application) -> None:
    app.router.add_get("/v1/audit/checkpoint", get_checkpoint)
    app.router.add_get("/v1/checkpoint", get_checkpoint)
    app.router.add_get("/v1/audit/consistency", get_consistency)
    app.router.add_post("/v1/audit/cosignature", post_cosignature)


class HttpAuditClient:
    """The AuditPeerClient of gateway/service_audit.py over HTTP; DeliveryError when a peer
    cannot be reached or answers with an error."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def _call(self, method: str, url: str, body: bytes | None = None) -> bytes:
        try:
            async with self._session.request(
                method,
                url,
                data=body,
                headers={"Content-Type": TEXT} if body is not None else None,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as resp:
                data = await resp.content.read(MAX_NOTE_BYTES + 1)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"cannot reach {url}: {type(exc).__name__}") from exc
        if status != 200:
            message = data[:200].decode("utf-8", errors="replace").strip()
            raise DeliveryError(f"{url} answered HTTP {status}: {message}")
        if len(data) > MAX_NOTE_BYTES:
            raise DeliveryError(f"{url} answered more than {MAX_NOTE_BYTES} bytes")
        return data

    async def checkpoint(self, endpoint: str) -> bytes:
        return await self._call("GET", endpoint.rstrip("/") + "/v1/audit/checkpoint")

    async def consistency(self, endpoint: str, first: int, second: int) -> list[bytes]:
        url = f"{endpoint.rstrip('/')}/v1/audit/consistency?from={first}&to={second}"
        proof = decode_proof(await self._call("GET", url))
        assert len(proof) <= MAX_PROOF_HASHES
        return proof

    async def cosign(self, endpoint: str, note: bytes) -> None:
        await self._call("POST", endpoint.rstrip("/") + "/v1/audit/cosignature", note)


class AuditWorker:
    """Owns the checkpoint and witnessing tasks; `close` cancels and awaits both, then signs
    a last checkpoint so that everything logged before shutdown is covered."""

    def __init__(
        self,
        audit: AuditService,
        client: HttpAuditClient,
        *,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
        witness_interval_s: float = WITNESS_INTERVAL_S,
    ) -> None:
        self._audit = audit
        self._client = client
        self._checkpoint_interval_s = checkpoint_interval_s
        self._witness_interval_s = witness_interval_s
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._audit.load()
        await self._audit.checkpoint_now()  # receipts carry a checkpoint from the start
        self._tasks = [
            asyncio.create_task(self._checkpoints(), name="audit-checkpoints"),
            asyncio.create_task(self._witness(), name="audit-witness"),
        ]

    async def _checkpoints(self) -> None:
        while True:
            await asyncio.sleep(self._checkpoint_interval_s)
            await self._audit.checkpoint_now()

    async def _witness(self) -> None:
        while True:
            await asyncio.sleep(self._witness_interval_s)
            # Per-peer failures (unreachable, bad answers) are handled and recorded inside.
            await self._audit.witness_round(self._client)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._audit.checkpoint_now()
