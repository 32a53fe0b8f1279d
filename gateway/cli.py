"""The `gateway` command (also `python -m gateway`).

Exit codes: 0 success; 1 the action failed (not found, refused, unreachable); 2 usage or
configuration error (bad flag, bad config, SOP, notice or key file). Errors are one or two plain
lines on stderr, never a traceback for a user's mistake.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import tomllib
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from gateway import __version__, cli_audit, cli_lifecycle
from gateway.cli_common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, fmt_ms, print_json, run_with_node
from gateway.config import Config, write_config
from gateway.core.card import NodeCard, open_card, sign_card
from gateway.core.keys import NodeKeys
from gateway.errors import ConfigError, GatewayError
from gateway.service import NodeService

__all__ = ["main"]

DEFAULT_DATA_DIR = "gateway-node"
CARD_VALIDITY_MS = 2 * 365 * 24 * 3_600_000


def _run(args: argparse.Namespace, fn: Callable[[NodeService], Awaitable[int]]) -> int:
    return run_with_node(args, fn)


# --- init and cards ---------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from gateway.node import CARD_FILE, load_sop_dir
    from gateway.store.keyfiles import create_keys

    data_dir: Path = args.data_dir
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--listen {args.listen!r} must be HOST:PORT, e.g. 127.0.0.1:8701")
    config = Config(
        data_dir=data_dir,
        node_id=args.node_id,
        country=args.country,
        name=args.name,
        endpoint=args.endpoint or f"http://{host}:{port}",
        listen_host=host,
        listen_port=int(port),
        sops_dir=args.sops.resolve(),
        envelope_ttl_ms=args.ttl_hours * 3_600_000,
    )
    load_sop_dir(config.sops_dir)  # refuse to create a node whose SOPs do not load
    if (data_dir / "gateway.toml").exists():
        raise ConfigError(f"{data_dir} already holds a node; choose another --data-dir")
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"{data_dir} is a file, not a directory; choose another --data-dir")
    # Everything is checked (the card's fields included) before anything is written, so a
    # refused init leaves no half-made node behind.
    node_keys = NodeKeys.generate()
    now = int(time.time() * 1000)
    card = NodeCard(
        node_id=config.node_id,
        country=config.country,
        name=config.name,
        endpoint=config.endpoint,
        signing_key=node_keys.signing.public_key,
        encryption_key=node_keys.encryption.public_key,
        audit_key=node_keys.audit.public_key,
        valid_from_ms=now,
        valid_until_ms=now + CARD_VALIDITY_MS,
    )
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = create_keys(config.key_dir, node_keys)
    (data_dir / CARD_FILE).write_bytes(sign_card(card, keys.node.signing))
    write_config(config)
    print(f"created node {config.node_id} ({config.country}) in {data_dir}")
    print(f"fingerprint: {card.fingerprint}")
    print("next: `gateway card export` and give the card and fingerprint to your peers")
    return EXIT_OK


def cmd_card_export(args: argparse.Namespace) -> int:
    from gateway.node import CARD_FILE

    data = (
        (args.data_dir / CARD_FILE).read_bytes() if (args.data_dir / CARD_FILE).exists() else None
    )
    if data is None:
        raise ConfigError(f"no node in {args.data_dir}; create one with `gateway init`")
    card = open_card(data)
    if args.output == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(args.output).write_bytes(data)
        print(f"wrote the card of {card.node_id} to {args.output}")
    print(f"fingerprint: {card.fingerprint}", file=sys.stderr if args.output == "-" else sys.stdout)
    return EXIT_OK


def cmd_card_show(args: argparse.Namespace) -> int:
    card = open_card(_read_file(args.card), source=args.card)
    info = {
        "node_id": card.node_id,
        "country": card.country,
        "name": card.name,
        "endpoint": card.endpoint,
        "fingerprint": card.fingerprint,
        "valid_from": fmt_ms(card.valid_from_ms),
        "valid_until": fmt_ms(card.valid_until_ms),
    }
    if args.json:
        print_json(info)
    else:
        for k, v in info.items():
            print(f"{k:12} {v}")
    return EXIT_OK


# --- peers ------------------------------------------------------------------------------------


def cmd_peer_add(args: argparse.Namespace) -> int:
    data = _read_file(args.card)

    async def go(service: NodeService) -> int:
        card = await service.add_peer(data, args.fingerprint, args.card)
        print(f"added peer {card.node_id} ({card.country}, {card.name}) at {card.endpoint}")
        return EXIT_OK

    return _run(args, go)


def cmd_peer_list(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        peers = (await service.directory()).peers
        rows = [
            {
                "node_id": p.node_id,
                "country": p.country,
                "name": p.name,
                "endpoint": p.endpoint,
                "fingerprint": p.fingerprint,
                "status": "revoked" if p.revoked else "active",
                "keys": [
                    {
                        "key_id": k.key_id.hex(),
                        "purpose": k.purpose,
                        "status": "revoked" if k.revoked else "active",
                    }
                    for k in p.keys
                ],
            }
            for p in peers
        ]
        if args.json:
            print_json(rows)
        elif not rows:
            print("no peers yet; add one with `gateway peer add CARD --fingerprint FP`")
        else:
            for r in rows:
                print(f"{r['node_id']:16} {r['country']:3} {r['status']:8} {r['endpoint']}")
                print(f"{'':16} fingerprint {r['fingerprint']}")
        return EXIT_OK

    return _run(args, go)


def cmd_peer_revoke(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        print(await service.revoke(args.ref))
        return EXIT_OK

    return _run(args, go)


# --- serving ----------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.config import load_config
    from gateway.logs import configure_logging, get_logger
    from gateway.node import create_app, load_sop_dir

    config = load_config(args.data_dir)
    load_sop_dir(config.sops_dir)  # fail fast, with exit code 2, before binding the port
    configure_logging(
        config.node_id, json=None if args.log_format == "auto" else args.log_format == "json"
    )
    get_logger().info("listening", host=config.listen_host, port=config.listen_port)
    web.run_app(
        create_app(args.data_dir),
        host=config.listen_host,
        port=config.listen_port,
        print=None,
        access_log=None,
        shutdown_timeout=5,
    )
    return EXIT_OK


# --- notices ----------------------------------------------------------------------------------


def _load_notice_file(path: str) -> dict[str, Any]:
    text = _read_file(path).decode("utf-8", errors="replace")
    try:
        if path.endswith(".json"):
            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid {'JSON' if path.endswith('.json') else 'TOML'}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a notice must be a table of fields")
    return data


def _is_notice_id(ref: str) -> bool:
    return ref.startswith("N-") and not Path(ref).exists()


def cmd_send(args: argparse.Namespace) -> int:
    """`send ID` dispatches an approved draft; `send FILE` drafts and sends in one step, only
    under a rule that needs no approval (otherwise: draft, approve, send ID)."""
    ref = args.notice_file
    document = None if _is_notice_id(ref) else _load_notice_file(ref)

    async def go(service: NodeService) -> int:
        if document is None:
            result = await service.send_draft(ref, actor=args.user)
        else:
            result = await service.send(document, source=ref, drafter=args.user)
        if args.json:
            print_json(
                {
                    "notice_id": result.notice_id,
                    "recipients": [{"node_id": n, "roles": list(r)} for n, r in result.recipients],
                }
            )
        else:
            print(f"notice {result.notice_id} queued for:")
            for node_id, roles in result.recipients:
                print(f"  {node_id:16} as {', '.join(roles)}")
        return EXIT_OK

    return _run(args, go)


def cmd_status(args: argparse.Namespace) -> int:
    if args.notice_id is None:
        return _status_overview(args)

    async def go(service: NodeService) -> int:
        row, recipients = await service.status(args.notice_id)
        escalations = [e for e in await service.escalations() if e.notice_id == row.notice_id]
        info: dict[str, Any] = {
            "notice_id": row.notice_id,
            "kind": row.kind,
            "sop": f"{row.sop_id} v{row.sop_version}",
            "state": row.state,
            "created_at": fmt_ms(row.created_at_ms),
            "drafter": row.drafter,
            "approvals_required": row.approvals_required,
            "approvers": list(row.approvers),
            "dispatch_deadline": fmt_ms(row.dispatch_deadline_ms),
            "dispatched_at": fmt_ms(row.dispatched_at_ms),
            "retention_until": fmt_ms(row.retention_until_ms),
            "shredded": row.shredded,
            "planned": [{"node_id": n, "roles": list(r)} for n, r in row.plan],
            "recipients": [
                {
                    "node_id": r.peer,
                    "roles": r.roles.split(","),
                    "state": r.state,
                    "delivery": r.delivery,
                    "message_id": r.message_id.hex(),
                    "attempts": r.attempts,
                    "delivered_at": fmt_ms(r.delivered_at_ms),
                    "ack_deadline": fmt_ms(r.ack_deadline_ms),
                    "acknowledged_at": fmt_ms(r.acknowledged_at_ms),
                    "last_error": r.last_error,
                }
                for r in recipients
            ],
            "escalations": [
                {
                    "deadline": e.deadline,
                    "peer": e.peer or None,
                    "raised_at": fmt_ms(e.raised_at_ms),
                }
                for e in escalations
            ],
        }
        if args.json:
            print_json(info)
        else:
            print(f"notice {row.notice_id}  {row.kind}  {info['sop']}  {row.state}")
            if row.state == "awaiting_approval":
                print(
                    f"  approvals {len(row.approvers)} of {row.approvals_required}"
                    f" ({', '.join(row.approvers) or 'none yet'}); drafted by {row.drafter}"
                )
            for r in info["recipients"]:
                if r["state"] == "acknowledged":
                    when = f"acknowledged {r['acknowledged_at']}"
                elif r["state"] in ("delivered", "overdue") and r["delivery"] == "delivered":
                    when = f"receipt {r['delivered_at']}; acknowledgement due {r['ack_deadline']}"
                else:
                    when = r["last_error"] or ""
                print(f"  {r['node_id']:16} {','.join(r['roles']):24} {r['state']:12} {when}")
            for e in info["escalations"]:
                who = f" ({e['peer']})" if e["peer"] else ""
                print(f"  ESCALATED: {e['deadline']} deadline passed{who}, at {e['raised_at']}")
        return EXIT_OK

    return _run(args, go)


def _status_overview(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        notices = await service.notice_list()
        escalations = await service.escalations()
        info: dict[str, Any] = {
            "notices": [
                {"notice_id": n, "kind": k, "state": s, "created_at": fmt_ms(t)}
                for n, k, s, t in notices
            ],
            "escalations": [
                {
                    "notice_id": e.notice_id,
                    "deadline": e.deadline,
                    "peer": e.peer or None,
                    "raised_at": fmt_ms(e.raised_at_ms),
                    "escalate_to": e.escalate_to.split(",") if e.escalate_to else [],
                }
                for e in escalations
            ],
        }
        if args.json:
            print_json(info)
            return EXIT_OK
        for n in info["notices"]:
            print(f"{n['notice_id']}  {n['kind']:28} {n['state']:18} {n['created_at']}")
        if not info["notices"]:
            print("no notices drafted or sent yet")
        print(f"{len(escalations)} escalation(s)" + (":" if escalations else ""))
        for e in info["escalations"]:
            who = f" by {e['peer']}" if e["peer"] else ""
            print(f"  {e['notice_id']}  {e['deadline']}{who} overdue since {e['raised_at']}")
        return EXIT_OK

    return _run(args, go)


def cmd_inbox(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        entries = await service.inbox(args.limit)
        rows: list[dict[str, Any]] = [
            {
                "id": e.id,
                "received_at": fmt_ms(e.received_at_ms),
                "sender": e.sender,
                "notice_id": e.notice_id,
                "kind": e.kind,
                "sop": f"{e.sop_id} v{e.sop_version}",
                "roles": e.roles.split(","),
                "message_id": e.message_id.hex(),
                "shredded": e.shredded,
            }
            for e in entries
        ]
        if args.json:
            print_json(rows)
        elif not rows:
            print("the inbox is empty")
        else:
            for r in rows:
                print(
                    f"{r['id']:>5}  {r['received_at']}  {r['sender']:14} {r['notice_id']}  "
                    f"{r['kind']}  as {','.join(r['roles'])}"
                )
        return EXIT_OK

    return _run(args, go)


def cmd_show(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        entry, document = await service.show(args.ref, actor=args.user)
        info: dict[str, Any] = {
            "id": entry.id,
            "sender": entry.sender,
            "notice_id": entry.notice_id,
            "kind": entry.kind,
            "roles": entry.roles.split(","),
            "received_at": fmt_ms(entry.received_at_ms),
            "notice": document,
        }
        if args.json:
            print_json(info)
        else:
            print(f"notice {entry.notice_id} from {entry.sender}, received {info['received_at']}")
            if document is None:
                print("its content has been destroyed (retention period ended)")
            else:
                print_json(document)
        return EXIT_OK

    return _run(args, go)


def cmd_export(args: argparse.Namespace) -> int:
    exported: list[bytes] = []

    async def go(service: NodeService) -> int:
        exported.append(await service.export(args.message_id))
        return EXIT_OK

    code = _run(args, go)
    if args.output == "-":
        sys.stdout.buffer.write(exported[0])
        sys.stdout.flush()
    else:
        Path(args.output).write_bytes(exported[0])
        print(f"wrote {len(exported[0])} bytes to {args.output}")
    return code


def cmd_import(args: argparse.Namespace) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else _read_file(args.file)

    async def go(service: NodeService) -> int:
        await service.import_envelope(data)
        print(f"imported {args.file}: verified; the inbox holds it (once, if it was there already)")
        return EXIT_OK

    return _run(args, go)


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


# --- parser -----------------------------------------------------------------------------------


def _default_user() -> str:
    return os.environ.get("GATEWAY_USER") or os.environ.get("USER") or "operator"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway",
        description="Secure, federated exchange of counter-trafficking notices between states.",
        epilog="Exit codes: 0 ok, 1 failure, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"gateway {__version__}")
    parser.add_argument(
        "-d",
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("GATEWAY_DATA_DIR", DEFAULT_DATA_DIR)),
        help="the node's data directory (default: $GATEWAY_DATA_DIR or ./gateway-node)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a new node: keys, config, data directory")
    p.add_argument("--node-id", required=True, help="this node's id, e.g. fr-ncp")
    p.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 country code, e.g. FR")
    p.add_argument("--name", required=True, help="a human-readable name for the node")
    p.add_argument("--listen", default="127.0.0.1:8701", help="HOST:PORT for the peer endpoint")
    p.add_argument(
        "--endpoint", help="the URL peers use to reach this node (default: from --listen)"
    )
    p.add_argument(
        "--sops", type=Path, default=Path("sops"), help="directory of SOP files (default: ./sops)"
    )
    p.add_argument(
        "--ttl-hours", type=int, default=168, help="how long to retry a delivery (default: 168)"
    )
    p.set_defaults(func=cmd_init)

    card = sub.add_parser("card", help="this node's card (identity and public keys)")
    card_sub = card.add_subparsers(dest="card_command", required=True, metavar="ACTION")
    p = card_sub.add_parser(
        "export", help="write this node's signed card and print its fingerprint"
    )
    p.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_card_export)
    p = card_sub.add_parser("show", help="show what a card file says, with its fingerprint")
    p.add_argument("card", help="a card file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_card_show)

    peer = sub.add_parser("peer", help="the directory of trusted peer nodes")
    peer_sub = peer.add_subparsers(dest="peer_command", required=True, metavar="ACTION")
    p = peer_sub.add_parser("add", help="trust a peer's card after checking its fingerprint")
    p.add_argument("card", help="the peer's card file")
    p.add_argument(
        "--fingerprint",
        required=True,
        help="the fingerprint the peer's operator gave you out of band",
    )
    p.set_defaults(func=cmd_peer_add)
    p = peer_sub.add_parser("list", help="list peers and their keys")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_peer_list)
    p = peer_sub.add_parser(
        "revoke", help="revoke a peer (by node id) or one key (by key id), for good"
    )
    p.add_argument("ref", metavar="NODE_OR_KEY")
    p.set_defaults(func=cmd_peer_revoke)

    p = sub.add_parser("serve", help="run the node: peer endpoint and delivery workers")
    p.add_argument("--log-format", choices=["auto", "json", "console"], default="auto")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "send",
        help="send an approved draft (NOTICE_ID), or a file whose SOP rule needs no approval",
    )
    p.add_argument("notice_file", metavar="NOTICE_ID_OR_FILE")
    p.add_argument("--user", default=_default_user(), help="who is sending (audited)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser(
        "status",
        help="state of a notice we drafted or sent, per recipient; without an id: all, and"
        " escalations",
    )
    p.add_argument("notice_id", metavar="NOTICE_ID", nargs="?")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("inbox", help="list received notices")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_inbox)

    p = sub.add_parser("show", help="decrypt and print a received notice")
    p.add_argument("ref", metavar="ID", help="inbox number, notice id or message id")
    p.add_argument("--user", default=_default_user(), help="who is opening it (audited)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="write one outgoing envelope to a file, for offline transfer")
    p.add_argument("message_id", metavar="MESSAGE_ID", help="hex message id (see `gateway status`)")
    p.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="verify and store an envelope received offline")
    p.add_argument("file", metavar="FILE", help="envelope file, or - for stdin")
    p.set_defaults(func=cmd_import)
    cli_audit.register(sub)  # `gateway audit ...` (gateway/cli_audit.py)
    cli_lifecycle.register(sub)  # draft, approve, ack, escalations, purge, sop (cli_lifecycle.py)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.func is not cmd_serve:
        from gateway.logs import configure_logging

        # One-shot commands print their results on stdout; only warnings go to the log.
        configure_logging("cli", json=False, level=logging.WARNING)
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GatewayError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:  # e.g. a data directory that is a file, a full disk, a busy port
        where = f" {exc.filename}" if exc.filename else ""
        print(f"gateway:{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILURE
