"""`gateway audit ...`: verify, read, prove and export a node's audit log; witness peers.

    verify [--bundle FILE] [--key VKEY]   check everything offline; exit 1 naming the first bad
                                          leaf index or checkpoint
    log [filters] [--json]                the leaves (metadata only), oldest first
    checkpoint [--new]                    the latest signed checkpoint, with its cosignatures
    key [--witness]                       our verifier key (name+keyid+base64)
    prove ENTRY [-o FILE]                 an inclusion proof of leaf ENTRY
    prove --check FILE [--key VKEY]       check such a proof offline
    export [-o FILE]                      a bundle an outside auditor checks with verify --bundle
    peers [--json]                        what we witnessed of each peer, and any alarms
    witness [--json]                      run one witnessing round now

Exit codes as for every `gateway` command: 0 ok, 1 failure (verification failed, an alarm, not
found), 2 usage or configuration error. The command logic lives in gateway/service_audit.py;
this module parses arguments and prints.
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.cli_common import EXIT_FAILURE, EXIT_OK, fmt_ms, print_json, run_with_node
from gateway.core.audit import ACTIONS, AuditLeaf
from gateway.core.audit_checkpoint import (
    AuditFailure,
    Progress,
    log_verifier,
    open_inclusion_document,
    witness_cosigner,
)
from gateway.core.audit_verify import LogSummary, verify_bundle
from gateway.core.signed_note import Verifier
from gateway.errors import ConfigError, GatewayError
from gateway.service import NodeService
from gateway.service_audit import AuditService, WitnessOutcome

__all__ = ["register"]


def _run(args: argparse.Namespace, fn: Callable[[AuditService], Awaitable[int]]) -> int:
    async def go(service: NodeService) -> int:
        assert service.audit is not None
        return await fn(service.audit)

    return run_with_node(args, go)


def _own_keys(args: argparse.Namespace) -> tuple[str, Any]:
    """(node id, audit key pair) from the data directory, without opening the database."""
    from gateway.config import load_config
    from gateway.store.keyfiles import load_keys

    config = load_config(args.data_dir)
    return config.node_id, load_keys(config.key_dir).node.audit


def _progress(p: Progress) -> None:
    total = f" of {p.total:,}" if p.total else ""
    print(f"verified {p.leaves:,}{total} leaves", file=sys.stderr, flush=True)


def _parse_key(text: str | None) -> Verifier | None:
    if text is None:
        return None
    try:
        return Verifier.parse(text.strip())
    except GatewayError as exc:
        raise ConfigError(f"--key: {exc}") from exc


def _summary(summary: LogSummary) -> dict[str, Any]:
    return {
        "leaves": summary.size,
        "root": base64.b64encode(summary.root).decode(),
        "checkpoints": summary.checkpoints,
        "latest_checkpoint_size": summary.latest_checkpoint,
        "leaves_after_latest_checkpoint": summary.uncovered,
        "cosignatures": summary.cosignatures,
        "witnesses": list(summary.witnesses),
    }


def cmd_verify(args: argparse.Namespace) -> int:
    trusted = _parse_key(args.key)
    try:
        if args.bundle:
            try:
                with open(args.bundle, "rb") as fh:
                    bundle = verify_bundle(fh, trusted=trusted, on_progress=_progress)
            except OSError as exc:
                raise ConfigError(f"cannot read {args.bundle}: {exc.strerror}") from exc
            summary, what = bundle.log, f"bundle {args.bundle} of {bundle.node_id}"
            if bundle.key_from_bundle:
                print(
                    f"note: checked against the key in the bundle, {bundle.log_key};"
                    " compare it with the node's published key or pass --key",
                    file=sys.stderr,
                )
        else:
            from gateway.store.audit_store import verify_database

            node_id, audit_key = _own_keys(args)
            log_key = log_verifier(node_id, audit_key.public_key)
            if trusted is not None and trusted != log_key:
                raise ConfigError("--key is not this node's audit key")
            summary = verify_database(args.data_dir / "gateway.db", log_key, on_progress=_progress)
            what = f"audit log of {node_id}"
    except AuditFailure as exc:
        print(f"gateway: audit verify FAILED: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    info = _summary(summary)
    if args.json:
        print_json({"ok": True, **info})
        return EXIT_OK
    print(f"{what}: OK")
    print(f"  {summary.size:,} leaves, root {info['root']}")
    if summary.latest_checkpoint is None:
        print("  no signed checkpoint yet")
    else:
        print(
            f"  {summary.checkpoints:,} signed checkpoints, the latest at size"
            f" {summary.latest_checkpoint:,} ({summary.uncovered:,} leaves after it)"
        )
    if summary.witnesses:
        print(
            f"  {summary.cosignatures:,} cosignatures verified, from {', '.join(summary.witnesses)}"
        )
    return EXIT_OK


def _time(text: str | None, flag: str) -> int | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{flag} {text!r} is not a date or time, e.g. 2025-03-14 or 2025-03-14T09:30:00+01:00"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _leaf_row(seq: int, leaf: AuditLeaf | None) -> dict[str, Any]:
    if leaf is None:
        return {"seq": seq, "damaged": True}
    return {
        "seq": seq,
        "time": fmt_ms(leaf.time_ms),
        "actor": leaf.actor,
        "action": leaf.action,
        "notice_id": leaf.notice_id,
        "message_id": leaf.message_id,
        "peer": leaf.peer,
        "outcome": leaf.outcome,
        "digest": leaf.digest,
        "reason": leaf.reason,
    }


def cmd_log(args: argparse.Namespace) -> int:
    from gateway.store.audit_store import LeafFilter

    if args.action is not None and args.action not in ACTIONS:
        raise ConfigError(f"--action {args.action!r} is not one of: {', '.join(sorted(ACTIONS))}")
    where = LeafFilter(
        since_ms=_time(args.since, "--since"),
        until_ms=_time(args.until, "--until"),
        notice_id=args.notice,
        peer=args.peer,
        action=args.action,
        limit=args.limit,
    )

    async def go(audit: AuditService) -> int:
        rows = [_leaf_row(seq, leaf) for seq, leaf in await audit.log(where)]
        if args.json:
            print_json(rows)
        elif not rows:
            print("no audit entries match")
        for r in [] if args.json else rows:
            if r.get("damaged"):
                print(f"{r['seq']:>7}  (damaged: run `gateway audit verify`)")
                continue
            print(
                f"{r['seq']:>7}  {r['time']}  {r['action']:26} {r['actor']:12} "
                f"{r['notice_id'] or '-':24} {r['peer'] or '-':10} {r['outcome']}"
            )
        return EXIT_OK

    return _run(args, go)


def cmd_checkpoint(args: argparse.Namespace) -> int:
    async def go(audit: AuditService) -> int:
        if args.new:
            await audit.checkpoint_now()
        found = await audit.cosigned_checkpoint()
        if found is None:
            print("gateway: no checkpoint yet; the log is empty", file=sys.stderr)
            return EXIT_FAILURE
        checkpoint, cosignatures = found
        sys.stdout.write(checkpoint.note.decode("utf-8"))
        sys.stdout.write("".join(line + "\n" for line in cosignatures))
        return EXIT_OK

    return _run(args, go)


def cmd_key(args: argparse.Namespace) -> int:
    node_id, audit_key = _own_keys(args)
    if args.witness:
        print(witness_cosigner(node_id, audit_key.seed).verifier.format())
    else:
        print(log_verifier(node_id, audit_key.public_key).format())
    return EXIT_OK


def cmd_prove(args: argparse.Namespace) -> int:
    if args.check:
        try:
            text = Path(args.check).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {args.check}: {exc}") from exc
        try:
            leaf, checkpoint, key = open_inclusion_document(text, _parse_key(args.key))
        except AuditFailure as exc:
            print(f"gateway: inclusion proof FAILED: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        print(
            f"OK: entry {leaf.seq} ({leaf.action}, {fmt_ms(leaf.time_ms)}) is in the log"
            f" {checkpoint.origin} at size {checkpoint.size}"
        )
        if args.key is None:
            print(
                f"note: checked against the key in the file, {key.format()};"
                " compare it with the node's published key or pass --key",
                file=sys.stderr,
            )
        return EXIT_OK
    if args.entry is None:
        raise ConfigError("give an ENTRY (a leaf number from `gateway audit log`) or --check FILE")
    if not args.entry.isdigit():
        raise ConfigError(f"ENTRY {args.entry!r} must be a leaf number from `gateway audit log`")

    documents: list[str] = []

    async def go(audit: AuditService) -> int:
        documents.append(await audit.prove(int(args.entry)))
        return EXIT_OK

    code = _run(args, go)
    if args.output == "-":
        print(documents[0])
    else:
        Path(args.output).write_text(documents[0] + "\n", encoding="utf-8")
        print(f"wrote the inclusion proof of entry {args.entry} to {args.output}")
    return code


def cmd_export(args: argparse.Namespace) -> int:
    from gateway.store.audit_store import export_bundle

    node_id, audit_key = _own_keys(args)
    log_key = log_verifier(node_id, audit_key.public_key)
    db_path = args.data_dir / "gateway.db"
    if args.output == "-":
        counts = export_bundle(db_path, node_id, log_key, sys.stdout.buffer)
        sys.stdout.flush()
    else:
        try:
            with open(args.output, "xb") as fh:
                counts = export_bundle(db_path, node_id, log_key, fh)
        except FileExistsError:
            raise ConfigError(f"{args.output} exists; not overwriting") from None
    print(
        f"exported {counts['leaves']:,} leaves, {counts['checkpoints']:,} checkpoints and"
        f" {counts['cosignatures']:,} cosignatures"
        + ("" if args.output == "-" else f" to {args.output}"),
        file=sys.stderr if args.output == "-" else sys.stdout,
    )
    return EXIT_OK


def cmd_peers(args: argparse.Namespace) -> int:
    async def go(audit: AuditService) -> int:
        states, alarms = await audit.peers()
        rows = [
            {
                "peer": s.peer,
                "witnessed_size": None if s.checkpoint is None else s.checkpoint.size,
                "verified_at": fmt_ms(s.verified_at_ms),
                "last_round": fmt_ms(s.last_round_ms),
                "last_error": s.last_error,
                "alarms": sum(1 for a in alarms if a.peer == s.peer),
            }
            for s in states
        ]
        alarm_rows = [
            {
                "id": a.id,
                "peer": a.peer,
                "kind": a.kind,
                "raised_at": fmt_ms(a.raised_at_ms),
                "detail": a.detail,
                "held_checkpoint": a.held_note.decode("utf-8", errors="replace"),
                "offered_checkpoint": a.new_note.decode("utf-8", errors="replace"),
            }
            for a in alarms
        ]
        if args.json:
            print_json({"peers": rows, "alarms": alarm_rows})
            return EXIT_OK
        if not rows:
            print("no peer witnessed yet; run `gateway audit witness` or wait for the node")
        for r in rows:
            size = "-" if r["witnessed_size"] is None else f"{r['witnessed_size']:,}"
            status = f"ERROR {r['last_error']}" if r["last_error"] else "ok"
            print(f"{r['peer']:16} size {size:>9}  verified {r['verified_at']}  {status}")
        for a in alarm_rows:
            print(f"ALARM {a['id']} {a['peer']} {a['kind']} at {a['raised_at']}: {a['detail']}")
        return EXIT_OK

    return _run(args, go)


def cmd_witness(args: argparse.Namespace) -> int:
    import aiohttp

    from gateway.net.audit_api import HttpAuditClient

    async def go(audit: AuditService) -> int:
        async with aiohttp.ClientSession() as session:
            outcomes = await audit.witness_round(HttpAuditClient(session))
        if args.json:
            print_json([_outcome(o) for o in outcomes])
        else:
            if not outcomes:
                print("no live peers to witness")
            for o in outcomes:
                size = "-" if o.size is None else f"{o.size:,}"
                print(f"{o.peer:16} {o.result.upper():9} size {size:>9}  {o.detail}")
        return EXIT_OK if all(o.result == "cosigned" for o in outcomes) else EXIT_FAILURE

    return _run(args, go)


def _outcome(o: WitnessOutcome) -> dict[str, Any]:
    return {"peer": o.peer, "result": o.result, "size": o.size, "detail": o.detail}


def register(sub: Any) -> None:
    """Add `gateway audit ...` to the top-level subparsers of gateway/cli.py."""
    audit = sub.add_parser(
        "audit",
        help="the tamper-evident audit log: verify, read, prove, export, witness",
        description="The node's audit log: an RFC 9162 Merkle tree of metadata-only entries,"
        " with signed checkpoints that peers cosign.",
        epilog="Exit codes: 0 ok, 1 failure (verification failed, alarm, not found),"
        " 2 usage or configuration error.",
    )
    s = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")

    p = s.add_parser(
        "verify",
        help="recompute every leaf hash, the tree, checkpoints and cosignatures, offline",
    )
    p.add_argument("--bundle", metavar="FILE", help="check an export bundle instead of the node")
    p.add_argument("--key", metavar="VKEY", help="the log's verifier key, obtained out of band")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_verify)

    p = s.add_parser("log", help="list audit entries (metadata only), oldest first")
    p.add_argument("--since", metavar="TIME", help="from this date or time (UTC if no offset)")
    p.add_argument("--until", metavar="TIME", help="before this date or time")
    p.add_argument("--notice", metavar="NOTICE_ID", help="entries about this notice")
    p.add_argument("--peer", metavar="NODE_ID", help="entries about this peer")
    p.add_argument("--action", help="entries of this action, e.g. envelope_received")
    p.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_log)

    p = s.add_parser("checkpoint", help="print the latest signed checkpoint with cosignatures")
    p.add_argument("--new", action="store_true", help="first sign one if the log grew")
    p.set_defaults(func=cmd_checkpoint)

    p = s.add_parser("key", help="print the verifier key of our checkpoints (name+keyid+base64)")
    p.add_argument("--witness", action="store_true", help="the key our cosignatures verify with")
    p.set_defaults(func=cmd_key)

    p = s.add_parser("prove", help="an inclusion proof of one entry, or --check one offline")
    p.add_argument("entry", nargs="?", metavar="ENTRY", help="leaf number (see `audit log`)")
    p.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    p.add_argument("--check", metavar="FILE", help="verify an inclusion proof file offline")
    p.add_argument("--key", metavar="VKEY", help="with --check: the log key, out of band")
    p.set_defaults(func=cmd_prove)

    p = s.add_parser("export", help="write a bundle an auditor checks with `verify --bundle`")
    p.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = s.add_parser("peers", help="what we witnessed of each peer's log, and any alarms")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_peers)

    p = s.add_parser("witness", help="check and cosign every live peer's checkpoint now")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_witness)
