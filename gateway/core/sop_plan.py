"""The SOP engine: who gets a notice and what each recipient may see, on both sides.

Sender: `plan(notice, sops, directory, self_node, now)` returns a `Plan` or raises `PlanError`
with every reason it cannot, so an officer fixes a draft in one pass rather than one error at a
time. Receiver: `role_of` + `allowed_view` + `check_fields` apply the same SOP to what arrived.

Choices made here:
- Roles are found by country: the notice names the countries of origin, transit and destination,
  and every directory node of such a country (not revoked, not us, a party to the SOP) gets the
  notice in that role. A node in two roles gets one entry with the union of both views.
- A reply (acknowledgement, joint-investigation response) goes to the `sender` role: the node
  that sent the notice it answers (`PlanInput.reply_to`), found by node id, not by country, so
  it reaches the asking node even when that node's country holds no case role.
- A recipient's view is the present fields its roles are granted, expressed as field paths, so
  the envelope builder needs no knowledge of groups.
- When no SOP id is given, the SOP is chosen only if exactly one SOP in force covers the kind and
  names this node as a party; otherwise the officer must name one. Silently picking one of two
  legal bases would be wrong.
- Of the versions of an SOP, the highest one in force today (UTC) applies, so a new version can
  be installed before it takes effect.
- `ack_deadline` counts from `now`: plan at dispatch time, or recompute it then from
  `rule.acknowledge_within`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from gateway.core.sop_model import (
    CASE_ROLES,
    FIELD_PATHS,
    KINDS,
    ROLES,
    HandlingCode,
    Kind,
    Role,
    Rule,
    Sop,
    Tlp,
    is_granted,
)
from gateway.core.sop_parse import SopSet
from gateway.errors import ConfigError, FieldsNotAllowed, UnknownSop

__all__ = [
    "DirectoryEntry",
    "Plan",
    "PlanError",
    "PlanInput",
    "Recipient",
    "Routing",
    "allowed_view",
    "check_fields",
    "plan",
    "role_of",
]

_COUNTRY = re.compile(r"[A-Z]{2}")  # ISO 3166-1 alpha-2, as on node cards


class PlanError(ConfigError):
    """A notice cannot be dispatched; `reasons` lists every reason, metadata only."""

    def __init__(self, reasons: Iterable[str], *, kind: str) -> None:
        self.reasons = tuple(reasons)
        self.kind = kind
        lines = "\n".join(f"  - {reason}" for reason in self.reasons)
        super().__init__(f"cannot dispatch this {kind} notice:\n{lines}")


class Routing(Protocol):
    """The case countries of a notice (a PlanInput is one)."""

    @property
    def origin(self) -> str | None: ...
    @property
    def transit(self) -> tuple[str, ...]: ...
    @property
    def destination(self) -> str | None: ...


def _check_country(value: str | None, name: str) -> None:
    if value is not None and not (isinstance(value, str) and _COUNTRY.fullmatch(value)):
        raise ValueError(f"{name}: {value!r} is not an ISO 3166-1 alpha-2 country code")


def _check_aware(value: datetime | None, name: str) -> None:
    if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanInput:
    """What the engine needs from a notice: no field values, only which fields are present.

    The countries and identification time must agree with `present_fields` (origin is set if
    and only if "case.origin_country" is present, and so on).
    """

    kind: Kind
    sop_id: str | None = None
    origin: str | None = None
    transit: tuple[str, ...] = ()
    destination: str | None = None
    identified_at: datetime | None = None
    present_fields: frozenset[str] = frozenset()
    # For a reply (an acknowledgement, say): the node that sent the notice it answers, which
    # the rule's `sender` role reaches.
    reply_to: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown notice kind {self.kind!r}; allowed: {', '.join(KINDS)}")
        _check_country(self.origin, "origin")
        _check_country(self.destination, "destination")
        for country in self.transit:
            _check_country(country, "transit")
        _check_aware(self.identified_at, "identified_at")
        object.__setattr__(self, "present_fields", frozenset(self.present_fields))
        unknown = sorted(self.present_fields - frozenset(FIELD_PATHS))
        if unknown:
            raise ValueError(f"unknown field paths: {', '.join(unknown)}")
        given = {
            "case.origin_country": self.origin is not None,
            "case.transit_countries": bool(self.transit),
            "case.destination_country": self.destination is not None,
            "case.identified_at_ms": self.identified_at is not None,
        }
        for path, is_set in given.items():
            if is_set != (path in self.present_fields):
                raise ValueError(
                    f"{path} is {'set' if is_set else 'unset'} but present_fields disagrees"
                )


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryEntry:
    """A peer node as the directory knows it."""

    node_id: str
    country: str
    revoked: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.node_id, str) or not self.node_id:
            raise ValueError("node_id must be a non-empty string")
        _check_country(self.country, "country")


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """One node to send to, in which roles, and the field paths it may see."""

    node_id: str
    country: str
    roles: tuple[Role, ...]
    view: frozenset[str]

    def __post_init__(self) -> None:
        if not self.roles or any(role not in ROLES for role in self.roles):
            raise ValueError(f"roles must be a non-empty tuple of {', '.join(ROLES)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """How a notice is dispatched under its SOP. Recipients are sorted by node id."""

    sop_id: str
    sop_version: int
    kind: Kind
    rule: Rule
    recipients: tuple[Recipient, ...]
    approvals_required: int
    dispatch_deadline: datetime | None
    ack_deadline: datetime | None
    retention: timedelta
    tlp: Tlp
    handling_code: HandlingCode

    def __post_init__(self) -> None:
        ids = [recipient.node_id for recipient in self.recipients]
        if not ids or ids != sorted(set(ids)):
            raise ValueError("recipients must be non-empty, unique and sorted by node id")


# -- sender side -----------------------------------------------------------------------------


def plan(
    notice: PlanInput,
    sops: SopSet,
    directory: Sequence[DirectoryEntry],
    self_node: str,
    now: datetime,
) -> Plan:
    """The dispatch plan for `notice`, or PlanError listing every reason there is none."""
    _check_aware(now, "now")
    today = now.astimezone(UTC).date()
    reasons: list[str] = []
    sop = _select_sop(notice, sops, self_node, today, reasons)
    rule = None if sop is None else sop.rule_for(notice.kind)
    if sop is not None and rule is None:
        reasons.append(
            f"SOP {sop.id} v{sop.version} has no rule for {notice.kind} notices"
            f" (it covers: {', '.join(sop.kinds)})"
        )
    if sop is None or rule is None:
        raise PlanError(reasons, kind=notice.kind)
    if not sop.is_party(self_node):
        reasons.append(
            f"this node ({self_node}) is not a party to SOP {sop.id} v{sop.version}"
            f" (parties: {', '.join(sop.parties)})"
        )
    for path in sorted(rule.required - notice.present_fields):
        reasons.append(f"missing required field {path}")
    nodes = _index_directory(directory, reasons)
    recipients = _recipients(notice, sop, rule, nodes, self_node, reasons)
    if not recipients and not reasons:
        reasons.append(
            f"no recipients: no node other than this one holds a role this rule sends to"
            f" ({', '.join(rule.to)})"
        )
    if reasons:
        raise PlanError(reasons, kind=notice.kind)
    return Plan(
        sop_id=sop.id,
        sop_version=sop.version,
        kind=notice.kind,
        rule=rule,
        recipients=recipients,
        approvals_required=rule.approvals,
        dispatch_deadline=_after(notice.identified_at, rule.dispatch_within),
        ack_deadline=_after(now, rule.acknowledge_within),
        retention=rule.retention,
        tlp=rule.tlp,
        handling_code=rule.handling_code,
    )


def _after(start: datetime | None, delay: timedelta | None) -> datetime | None:
    return None if start is None or delay is None else start + delay


def _select_sop(
    notice: PlanInput, sops: SopSet, self_node: str, today: date, reasons: list[str]
) -> Sop | None:
    if notice.sop_id is not None:
        versions = sops.versions(notice.sop_id)
        if not versions:
            held = ", ".join(sops.ids()) or "none"
            reasons.append(f"no SOP with id {notice.sop_id!r} (held: {held})")
            return None
        return _pick_version(versions, today, reasons)
    covering = sorted({sop.id for sop in sops.for_kind(notice.kind)})
    if not covering:
        reasons.append(f"no SOP held has a rule for {notice.kind} notices")
        return None
    usable = []
    for sop_id in covering:
        current = [s for s in sops.versions(sop_id) if s.in_force(today)]
        if current and current[-1].rule_for(notice.kind) and current[-1].is_party(self_node):
            usable.append(sop_id)
    if len(usable) > 1:
        reasons.append(
            f"several SOPs cover {notice.kind} notices ({', '.join(usable)}); name the one"
            " this notice is sent under"
        )
        return None
    if usable or len(covering) == 1:
        return _pick_version(sops.versions((usable or covering)[0]), today, reasons)
    reasons.append(
        f"no SOP in force on {today} covers {notice.kind} notices with this node"
        f" ({self_node}) as a party (SOPs with such a rule: {', '.join(covering)})"
    )
    return None


def _pick_version(versions: Sequence[Sop], today: date, reasons: list[str]) -> Sop:
    current = [sop for sop in versions if sop.in_force(today)]
    if current:
        return current[-1]
    latest = versions[-1]
    name = f"SOP {latest.id} v{latest.version}"
    if today < latest.effective_from:
        reasons.append(
            f"{name} is not in force yet: effective from {latest.effective_from}"
            f" (today is {today}, UTC)"
        )
    else:
        reasons.append(
            f"{name} has expired: it no longer applies from {latest.expires_on}"
            f" (today is {today}, UTC)"
        )
    return latest


def _index_directory(
    directory: Sequence[DirectoryEntry], reasons: list[str]
) -> dict[str, DirectoryEntry]:
    nodes: dict[str, DirectoryEntry] = {}
    twice: set[str] = set()
    for entry in directory:
        if entry.node_id in nodes:
            twice.add(entry.node_id)
        nodes[entry.node_id] = entry
    for node_id in sorted(twice):
        reasons.append(f"the directory lists node {node_id} more than once")
    return {node_id: nodes[node_id] for node_id in sorted(nodes) if node_id not in twice}


def _role_countries(notice: Routing, rule: Rule) -> list[tuple[Role, str]]:
    pairs: list[tuple[Role, str]] = []
    for role in CASE_ROLES:
        if role in rule.to:
            for country in _countries(notice, role):
                pairs.append((role, country))
    return pairs


def _countries(routing: Routing, role: Role) -> tuple[str, ...]:
    if role == "origin":
        return () if routing.origin is None else (routing.origin,)
    if role == "destination":
        return () if routing.destination is None else (routing.destination,)
    if role == "transit":
        return tuple(dict.fromkeys(routing.transit))
    return ()


def _recipients(
    notice: PlanInput,
    sop: Sop,
    rule: Rule,
    nodes: dict[str, DirectoryEntry],
    self_node: str,
    reasons: list[str],
) -> tuple[Recipient, ...]:
    name = f"SOP {sop.id} v{sop.version}"
    pairs = _role_countries(notice, rule)
    recipients: list[Recipient] = []
    for node in nodes.values():  # sorted by node id
        if node.node_id == self_node or node.revoked or not sop.is_party(node.node_id):
            continue
        roles = {role for role, country in pairs if country == node.country}
        if "sender" in rule.to and node.node_id == notice.reply_to:
            roles.add("sender")
        if "parties" in rule.to:
            roles.add("parties")
        if not roles:
            continue
        ordered = tuple(role for role in ROLES if role in roles)
        granted = frozenset().union(*(rule.granted(role) for role in ordered))
        view = frozenset(p for p in notice.present_fields if is_granted(p, granted))
        recipients.append(
            Recipient(node_id=node.node_id, country=node.country, roles=ordered, view=view)
        )
    for role, country in pairs:
        local = [node for node in nodes.values() if node.country == country]
        if any(node.node_id == self_node for node in local):
            continue  # our own country: other nodes of it get it, none is needed
        parties = [node for node in local if sop.is_party(node.node_id)]
        if not local:
            reasons.append(f"no node in the directory for the {role} country {country}")
        elif not parties:
            ids = ", ".join(node.node_id for node in local)
            reasons.append(f"no node of the {role} country {country} is a party to {name} ({ids})")
        elif all(node.revoked for node in parties):
            ids = ", ".join(node.node_id for node in parties)
            reasons.append(f"every node of the {role} country {country} is revoked ({ids})")
    if "sender" in rule.to:
        _check_sender(notice, sop, nodes, self_node, reasons)
    if "parties" in rule.to and not any("parties" in r.roles for r in recipients):
        reasons.append(
            f"no party to {name} other than this node is in the directory and not revoked"
        )
    return tuple(recipients)


def _check_sender(
    notice: PlanInput,
    sop: Sop,
    nodes: dict[str, DirectoryEntry],
    self_node: str,
    reasons: list[str],
) -> None:
    name = f"SOP {sop.id} v{sop.version}"
    sender = notice.reply_to
    if sender is None:
        reasons.append(
            f"a {notice.kind} notice goes to the sender of the notice it answers, and names"
            " none (response.related_notice_id of a received notice)"
        )
    elif sender == self_node:
        reasons.append(f"the notice answered was sent by this node ({self_node})")
    elif sender not in nodes:
        reasons.append(f"the sender of the notice answered ({sender}) is not in the directory")
    elif nodes[sender].revoked:
        reasons.append(f"the sender of the notice answered ({sender}) is revoked")
    elif not sop.is_party(sender):
        reasons.append(f"the sender of the notice answered ({sender}) is not a party to {name}")


# -- receiver side ---------------------------------------------------------------------------


def role_of(node_country: str, routing: Routing) -> frozenset[Role]:
    """The case roles (origin, transit, destination) a node of `node_country` holds.

    A receiver that is a party to the SOP also holds `parties`, and a receiver that sent the
    notice a reply answers (to the replying node) holds `sender`; the caller knows both and
    adds them before `allowed_view`.
    """
    return frozenset(role for role in CASE_ROLES if node_country in _countries(routing, role))


def allowed_view(sop: Sop, kind: str, roles: Iterable[Role]) -> frozenset[str]:
    """The entries (groups and paths) `roles` may see in a `kind` notice under `sop`.

    Empty when the rule sends to none of `roles`; raises UnknownSop when `sop` has no rule for
    `kind` (the sender used an SOP that does not cover this kind of notice).
    """
    rule = sop.rule_for(kind)
    if rule is None:
        raise UnknownSop(f"SOP {sop.id} v{sop.version} has no rule for {kind!r} notices")
    return frozenset().union(*(rule.granted(role) for role in roles))


def check_fields(view: Iterable[str], present_fields: Iterable[str]) -> None:
    """Raise FieldsNotAllowed naming every present field that `view` does not grant."""
    granted = frozenset(view)
    extra = sorted(path for path in set(present_fields) if not is_granted(path, granted))
    if extra:
        raise FieldsNotAllowed(
            f"the notice carries {len(extra)} field(s) its SOP does not grant this node's"
            f" role: {', '.join(extra)}"
        )
