"""`gateway draft`, `approve`, `ack`, `escalations`, `purge` and `sop check|plan`.

The notice lifecycle commands (gateway/service_lifecycle.py), registered on the main parser by
gateway/cli.py. `sop check` needs no node: it reads SOP files only.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.cli_common import EXIT_OK, print_json, run_with_node
from gateway.core import sop as sops
from gateway.errors import ConfigError
from gateway.service import NodeService

__all__ = ["plan_rows", "register"]


def _fmt_ms(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fmt_dt(when: datetime | None) -> str:
    return "-" if when is None else when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _run(args: argparse.Namespace, fn: Callable[[NodeService], Awaitable[int]]) -> int:
    return run_with_node(args, fn)


def _notice_file(path: str) -> dict[str, Any]:
    from gateway.cli import _load_notice_file

    return _load_notice_file(path)


# --- plans ------------------------------------------------------------------------------------


def plan_rows(plan: sops.Plan) -> dict[str, Any]:
    """A plan as JSON-ready metadata: recipients, roles, fields, deadlines, handling."""
    rule = plan.rule
    return {
        "sop": f"{plan.sop_id} v{plan.sop_version}",
        "kind": plan.kind,
        "approvals_required": plan.approvals_required,
        "dispatch_deadline": _fmt_dt(plan.dispatch_deadline),
        "acknowledge_within": None
        if rule.acknowledge_within is None
        else sops.format_duration(rule.acknowledge_within),
        "escalate_to": list(rule.escalate_to),
        "retention": sops.format_duration(plan.retention),
        "tlp": plan.tlp,
        "handling_code": plan.handling_code,
        "recipients": [
            {
                "node_id": r.node_id,
                "country": r.country,
                "roles": list(r.roles),
                "fields": sorted(r.view),
            }
            for r in plan.recipients
        ],
    }


def _print_plan(info: dict[str, Any]) -> None:
    print(f"  under {info['sop']}, {info['approvals_required']} approval(s) required")
    print(
        f"  dispatch by {info['dispatch_deadline']}; acknowledgement within"
        f" {info['acknowledge_within'] or '-'} of dispatch; escalate to"
        f" {', '.join(info['escalate_to']) or '-'}"
    )
    print(f"  TLP:{info['tlp'].upper()} {info['handling_code'].upper()}, kept {info['retention']}")
    for r in info["recipients"]:
        print(f"  -> {r['node_id']:16} {r['country']}  as {', '.join(r['roles'])}")
        groups: dict[str, list[str]] = {}
        for path in r["fields"]:
            group, _, name = path.partition(".")
            groups.setdefault(group, []).append(name)
        for group, names in groups.items():
            print(f"       {group}: {', '.join(names)}")


# --- commands ---------------------------------------------------------------------------------


def cmd_draft(args: argparse.Namespace) -> int:
    document = _notice_file(args.notice_file)

    async def go(service: NodeService) -> int:
        result = await service.draft(document, source=args.notice_file, drafter=args.user)
        info = {"notice_id": result.notice_id, "state": result.state, **plan_rows(result.plan)}
        if args.json:
            print_json(info)
            return EXIT_OK
        print(f"drafted notice {result.notice_id} ({result.state.replace('_', ' ')})")
        _print_plan(info)
        if result.state == "approved":
            print(f"next: `gateway send {result.notice_id}`")
        else:
            print(f"next: another officer runs `gateway approve {result.notice_id}`")
        return EXIT_OK

    return _run(args, go)


def cmd_approve(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        state, approvers, required = await service.approve(args.notice_id, approver=args.user)
        if args.json:
            print_json(
                {
                    "notice_id": args.notice_id,
                    "state": state,
                    "approvers": list(approvers),
                    "approvals_required": required,
                }
            )
        else:
            print(
                f"notice {args.notice_id} approved by {args.user}"
                f" ({len(approvers)} of {required}): {state.replace('_', ' ')}"
            )
            if state == "approved":
                print(f"next: `gateway send {args.notice_id}`")
        return EXIT_OK

    return _run(args, go)


def cmd_ack(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        result = await service.acknowledge(
            args.ref, actor=args.user, outcome=args.outcome, contact_unit=args.contact or ""
        )
        if args.json:
            print_json(
                {
                    "notice_id": result.notice_id,
                    "recipients": [{"node_id": n, "roles": list(r)} for n, r in result.recipients],
                }
            )
        else:
            to = ", ".join(node for node, _ in result.recipients)
            print(f"acknowledgement {result.notice_id} queued for {to}")
        return EXIT_OK

    return _run(args, go)


def cmd_escalations(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        rows: list[dict[str, Any]] = [
            {
                "id": e.id,
                "notice_id": e.notice_id,
                "peer": e.peer or None,
                "deadline": e.deadline,
                "due_at": _fmt_ms(e.due_at_ms),
                "raised_at": _fmt_ms(e.raised_at_ms),
                "escalate_to": e.escalate_to.split(",") if e.escalate_to else [],
            }
            for e in await service.escalations(args.limit)
        ]
        if args.json:
            print_json(rows)
        elif not rows:
            print("no escalations")
        else:
            for r in rows:
                who = f"recipient {r['peer']}" if r["peer"] else "dispatch"
                print(
                    f"{r['id']:>5}  {r['notice_id']}  {r['deadline']} deadline {r['due_at']}"
                    f" passed ({who}); alert: {', '.join(r['escalate_to']) or '-'}"
                )
        return EXIT_OK

    return _run(args, go)


def cmd_purge(args: argparse.Namespace) -> int:
    async def go(service: NodeService) -> int:
        purged = await service.purge(dry_run=args.dry_run, actor=args.user)
        rows: list[dict[str, Any]] = [
            {
                "side": p.side,
                "notice_id": p.notice_id,
                "peer": p.peer or None,
                "retention_until": _fmt_ms(p.retention_until_ms),
            }
            for p in purged
        ]
        if args.json:
            print_json({"dry_run": args.dry_run, "notices": rows})
            return EXIT_OK
        verb = "would destroy" if args.dry_run else "destroyed"
        print(f"{verb} the content of {len(rows)} notice(s) whose retention ended")
        for r in rows:
            origin = f" from {r['peer']}" if r["peer"] else ""
            print(f"  {r['side']:8} {r['notice_id']}{origin}  kept until {r['retention_until']}")
        return EXIT_OK

    return _run(args, go)


def cmd_sop_check(args: argparse.Namespace) -> int:
    files: list[Path] = list(args.files)
    if not files:
        sops_dir = _node_sops_dir(args.data_dir)
        files = sorted(sops_dir.glob("*.toml"))
        if not files:
            raise ConfigError(f"no SOP files (*.toml) in {sops_dir}; name the files to check")
    texts = []
    for path in files:
        try:
            texts.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read it as UTF-8 text: {exc}") from None
    loaded = sops.load_sops(texts)  # SopError / SopSetError: exit 2, every problem listed
    for sop in loaded:
        kinds = ", ".join(sop.kinds)
        print(f"ok  {sop.id} v{sop.version}: {kinds}")
    print(f"{len(loaded)} SOP(s) valid")
    return EXIT_OK


def _node_sops_dir(data_dir: Path) -> Path:
    """The node's SOP directory if there is a node, else ./sops."""
    from gateway.config import load_config

    if (data_dir / "gateway.toml").is_file():
        return load_config(data_dir).sops_dir
    return Path("sops")


def cmd_sop_plan(args: argparse.Namespace) -> int:
    document = _notice_file(args.notice_file)

    async def go(service: NodeService) -> int:
        info = plan_rows(await service.preview(document, source=args.notice_file))
        if args.json:
            print_json(info)
        else:
            print(f"{args.notice_file} would go as a {info['kind']} notice (nothing stored):")
            _print_plan(info)
        return EXIT_OK

    return _run(args, go)


# --- parser -----------------------------------------------------------------------------------


def register(sub: Any) -> None:
    """Add the lifecycle commands to the main parser's sub-commands."""
    from gateway.cli import _default_user

    def user(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument(
            "--user", default=_default_user(), help=f"who is {what} (audited; $GATEWAY_USER)"
        )

    p = sub.add_parser("draft", help="draft a notice from a file and print its dispatch plan")
    p.add_argument("notice_file", metavar="NOTICE_FILE")
    user(p, "drafting")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_draft)

    p = sub.add_parser("approve", help="approve a drafted notice (not your own; once each)")
    p.add_argument("notice_id", metavar="NOTICE_ID")
    user(p, "approving")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_approve)

    p = sub.add_parser("ack", help="acknowledge a received notice: a signed reply to its sender")
    p.add_argument("ref", metavar="ID", help="inbox number, notice id or message id")
    p.add_argument("--outcome", choices=["received", "accepted", "declined"], default="received")
    p.add_argument("--contact", help="the unit the sender should contact about it")
    user(p, "acknowledging")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_ack)

    p = sub.add_parser("escalations", help="SOP deadlines that passed, newest first")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_escalations)

    p = sub.add_parser("purge", help="destroy the content of notices whose retention ended")
    p.add_argument("--dry-run", action="store_true", help="only show what would be destroyed")
    user(p, "purging")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_purge)

    sop = sub.add_parser("sop", help="standard operating procedures: check files, preview plans")
    sop_sub = sop.add_subparsers(dest="sop_command", required=True, metavar="ACTION")
    p = sop_sub.add_parser(
        "check", help="validate SOP files (default: the node's SOP directory, or ./sops)"
    )
    p.add_argument("files", nargs="*", type=Path, metavar="FILE")
    p.set_defaults(func=cmd_sop_check)
    p = sop_sub.add_parser("plan", help="show what a notice file would do, without storing it")
    p.add_argument("notice_file", metavar="NOTICE_FILE")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_sop_plan)
