"""The peer endpoint: what other nodes call.

    POST /v1/envelopes   body: a SignedEnvelope (application/x-protobuf)
                         200 + SignedReceipt, or 4xx + SignedRejection
    GET  /v1/card        this node's signed card
    GET  /healthz        liveness

Handlers are thin: they read the body under a size limit and hand the bytes to the service,
which does every check (DESIGN.md section 5) and returns what to answer.
"""

from __future__ import annotations

from aiohttp import web

from gateway.core.envelope import MAX_ENVELOPE_BYTES
from gateway.service import NodeService

__all__ = ["PROTOBUF", "SERVICE", "add_peer_routes"]

PROTOBUF = "application/x-protobuf"
SERVICE = web.AppKey("service", NodeService)


async def post_envelope(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    if request.content_length is not None and request.content_length > MAX_ENVELOPE_BYTES:
        status, body = await service.reject_oversized(request.content_length)
        return web.Response(status=status, body=body, content_type=PROTOBUF)
    try:
        data = await request.read()
    except web.HTTPRequestEntityTooLarge:
        status, body = await service.reject_oversized(None)
        return web.Response(status=status, body=body, content_type=PROTOBUF)
    status, body = await service.receive(data)
    return web.Response(status=status, body=body, content_type=PROTOBUF)


async def get_card(request: web.Request) -> web.Response:
    return web.Response(body=request.app[SERVICE].card_bytes, content_type=PROTOBUF)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "node": request.app[SERVICE].node_id})


def add_peer_routes(app: web.Application) -> None:
    app.router.add_post("/v1/envelopes", post_envelope)
    app.router.add_get("/v1/card", get_card)
    app.router.add_get("/healthz", healthz)
