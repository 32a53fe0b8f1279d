"""SOP values: the notice vocabulary, `Rule`, `Sop` and `SopError`.

An SOP (standard operating procedure agreed by states) says, per notice kind, who gets a notice,
which fields each of them may see, how many approvals it needs, its deadlines and its handling.

Choices made here:
- The vocabulary (kinds, roles, TLP, handling codes) is written as `Literal` types, and the
  tuples of allowed values are derived from them, so the two cannot drift. Literals keep call
  sites checkable by mypy without an Enum round trip through TOML and protobuf; a test pins
  kinds and field paths to the protobuf.
- Validation lives in `__post_init__`, so an invalid rule cannot exist, whoever builds it. The
  TOML parser checks only shapes (is it a string, a list, a table) and lets the model judge the
  values; every failure is a `SopError` that carries the TOML key path of the culprit, which the
  parser turns into a file and line. One set of checks, one set of messages.
- A view ("what may this role see") is a set of entries: a group name grants the whole group,
  a "group.field" path grants one field. `is_granted` is the only place that reads a view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final, Literal, TypeVar, get_args

from gateway.errors import ConfigError

__all__ = [
    "ANY_PARTY",
    "CASE_ROLES",
    "FIELD_GROUPS",
    "FIELD_PATHS",
    "HANDLING_CODES",
    "KINDS",
    "LOCAL_ROLES",
    "PERSONAL_GROUPS",
    "REPLY_KINDS",
    "ROLES",
    "ROUTING_FIELDS",
    "TLPS",
    "TLPS_FOR_PERSONAL_DATA",
    "HandlingCode",
    "Kind",
    "LocalRole",
    "Role",
    "Rule",
    "Sop",
    "SopError",
    "Tlp",
    "is_granted",
]

Kind = Literal[
    "victim_identification",
    "modus_operandi",
    "acknowledgement",
    "joint_investigation_request",
    "joint_investigation_response",
    "correction",
    "withdrawal",
]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

# Field groups of a notice (DESIGN.md section 4), in wire order. Paths are "group.field".
FIELD_GROUPS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "case": tuple(
            "reference origin_country transit_countries destination_country identified_at_ms"
            " identified_place identifying_authority".split()
        ),
        "victim": tuple(
            "family_name given_names date_of_birth age_band sex nationalities identity_documents"
            " languages is_child special_needs protection_status consent_to_share".split()
        ),
        "facts": tuple(
            "acts means purposes exploitation_countries period_start period_end".split()
        ),
        "modus_operandi": tuple(
            "recruitment_methods ict_platforms route_legs documents_used financial_indicators"
            " organised_group_indicators".split()
        ),
        "handling": tuple(
            "tlp handling_code source_evaluation information_evaluation purpose"
            " retention_days".split()
        ),
        "response": ("related_notice_id", "outcome", "contact_unit"),
        "amendment": ("related_notice_id", "reason"),
        "investigation": ("lead_country", "participating_countries", "contact_unit"),
    }
)
FIELD_PATHS: Final[tuple[str, ...]] = tuple(
    f"{group}.{name}" for group, names in FIELD_GROUPS.items() for name in names
)
# Groups that hold a person's data: never granted to `parties` (every party of an SOP).
PERSONAL_GROUPS: Final[tuple[str, ...]] = ("victim",)

# Roles a rule can send to: the case roles (the states of origin, transit and destination),
# `parties` (every party of the SOP) and `sender` (the node that sent the notice a reply
# answers: an acknowledgement goes back to whoever asked for it, and to nobody else).
Role = Literal["origin", "transit", "destination", "parties", "sender"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
CASE_ROLES: Final[tuple[Role, ...]] = ("origin", "transit", "destination")
# Kinds that answer a received notice (response.related_notice_id): only they can go to
# `sender`.
REPLY_KINDS: Final[tuple[Kind, ...]] = ("acknowledgement", "joint_investigation_response")

# The case field that names the countries of each case role.
ROUTING_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "origin": "case.origin_country",
        "transit": "case.transit_countries",
        "destination": "case.destination_country",
    }
)

# Local user roles (DESIGN.md section 10): who is told when a deadline passes.
LocalRole = Literal["drafter", "approver", "receiver", "auditor", "admin"]
LOCAL_ROLES: Final[tuple[LocalRole, ...]] = get_args(LocalRole)

# TLP 2.0 and the 5x5x5 handling codes, as in proto/gateway/v1/common.proto.
Tlp = Literal["clear", "green", "amber", "amber_strict", "red"]
TLPS: Final[tuple[Tlp, ...]] = get_args(Tlp)
# TLP:CLEAR and TLP:GREEN allow sharing with a whole community: wrong for a person's data.
TLPS_FOR_PERSONAL_DATA: Final[tuple[Tlp, ...]] = ("amber", "amber_strict", "red")
HandlingCode = Literal["h0", "h1", "h2", "h3"]
HANDLING_CODES: Final[tuple[HandlingCode, ...]] = get_args(HandlingCode)

ANY_PARTY: Final = "*"
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

Path = tuple[str | int, ...]
_T = TypeVar("_T", bound=str)


class SopError(ConfigError):
    """A bad SOP: says the file, the line (when known), the field and what is allowed.

    `path` is the TOML key path of the culprit (e.g. ("rule", 1, "fields", "transit")) and
    `value` the offending list item, if any; the parser uses both to find the line.
    """

    def __init__(
        self,
        detail: str,
        *,
        path: Path = (),
        value: str | None = None,
        kind: str | None = None,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        self.detail = detail
        self.path = path
        self.value = value
        self.kind = kind
        self.source = source
        self.line = line
        self.field = _label(path, kind)
        where = f"{source}:{line}" if source and line else source or ""
        super().__init__(": ".join(part for part in (where, self.field, detail) if part))

    def within(self, *prefix: str | int, kind: str | None = None) -> SopError:
        """The same error, for a value nested under `prefix` (e.g. rule number 2)."""
        return SopError(
            self.detail,
            path=(*prefix, *self.path),
            value=self.value,
            kind=kind if kind is not None else self.kind,
            source=self.source,
            line=self.line,
        )

    def at(self, source: str, line: int | None) -> SopError:
        """The same error, located in a file."""
        return SopError(
            self.detail, path=self.path, value=self.value, kind=self.kind, source=source, line=line
        )


def _label(path: Path, kind: str | None) -> str:
    """How an officer finds the key: "[sop] parties", "[[rule]] #2 (kind) fields.transit"."""
    if not path:
        return ""
    if path[0] == "rule" and len(path) >= 2 and isinstance(path[1], int):
        head = f"[[rule]] #{path[1] + 1}" + (f" ({kind})" if kind else "")
        rest = path[2:]
    elif path[0] == "sop":
        head, rest = "[sop]", path[1:]
    else:
        head = f"rule ({kind})" if kind else ""
        rest = path
    tail = ".".join(str(part) for part in rest)
    return " ".join(part for part in (head, tail) if part)


def choose(value: object, allowed: tuple[_T, ...], *, path: Path, noun: str) -> _T:
    """`value` as one of `allowed`, or a SopError that lists what is allowed."""
    for candidate in allowed:
        if value == candidate:
            return candidate
    raise SopError(
        f"unknown {noun} {value!r}; allowed: {', '.join(allowed)}",
        path=path,
        value=value if isinstance(value, str) else None,
    )


# -- views -----------------------------------------------------------------------------------


def is_granted(path: str, view: Iterable[str]) -> bool:
    """True if `view` grants the field `path` ("group.field"), whole or through its group."""
    entries = view if isinstance(view, (frozenset, set)) else frozenset(view)
    return path in entries or path.partition(".")[0] in entries


def _check_entry(entry: object, *, path: Path) -> str:
    """A view entry: a group name or a "group.field" path."""
    if isinstance(entry, str):
        if entry in FIELD_GROUPS or entry in FIELD_PATHS:
            return entry
        group, dot, _ = entry.partition(".")
        if dot and group in FIELD_GROUPS:
            hint = f"fields of {group}: {', '.join(FIELD_GROUPS[group])}"
            raise SopError(f"unknown field {entry!r}; {hint}", path=path, value=entry)
    raise SopError(
        f"unknown field group or field {entry!r}; write a group ({', '.join(FIELD_GROUPS)})"
        ' or one field of a group, e.g. "victim.age_band"',
        path=path,
        value=entry if isinstance(entry, str) else None,
    )


def _check_path(entry: object, *, path: Path) -> str:
    """A single field path ("group.field"), as `required` takes."""
    checked = _check_entry(entry, path=path)
    if checked in FIELD_GROUPS:
        raise SopError(
            f"{checked!r} is a group; name the fields that must be present, e.g. "
            f'"{checked}.{FIELD_GROUPS[checked][0]}"',
            path=path,
            value=checked,
        )
    return checked


def _unique(items: tuple[str, ...], *, path: Path, noun: str) -> None:
    for index, item in enumerate(items):
        if item in items[:index]:
            raise SopError(f"{noun} {item!r} is listed twice", path=path, value=item)


# -- Rule ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """What an SOP says about one kind of notice.

    `approvals` counts people other than the drafter. `dispatch_within` runs from the victim's
    identification (case.identified_at_ms); `acknowledge_within` from dispatch. `fields` maps
    each role in `to` to the entries it may see; `required` lists fields a notice must carry.
    """

    kind: Kind
    to: tuple[Role, ...]
    approvals: int
    dispatch_within: timedelta | None = None
    acknowledge_within: timedelta | None = None
    escalate_to: tuple[LocalRole, ...] = ()
    retention: timedelta
    tlp: Tlp
    handling_code: HandlingCode
    # A read-only mapping; left out of the hash (mappings are not hashable), kept in equality.
    fields: Mapping[Role, frozenset[str]] = field(hash=False)
    required: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        choose(self.kind, KINDS, path=("kind",), noun="notice kind")
        self._check_routing()
        self._check_timing()
        choose(self.tlp, TLPS, path=("tlp",), noun="TLP level")
        choose(self.handling_code, HANDLING_CODES, path=("handling_code",), noun="handling code")
        object.__setattr__(self, "fields", MappingProxyType(self._checked_fields()))
        object.__setattr__(self, "required", self._checked_required())

    def _check_routing(self) -> None:
        if not self.to:
            raise SopError(f"send to at least one role; allowed: {', '.join(ROLES)}", path=("to",))
        for role in self.to:
            choose(role, ROLES, path=("to",), noun="role")
        _unique(self.to, path=("to",), noun="role")
        if "sender" in self.to and self.kind not in REPLY_KINDS:
            raise SopError(
                f"role 'sender' is for replies ({', '.join(REPLY_KINDS)}): a {self.kind} notice"
                " answers no received notice; send it to case roles or parties",
                path=("to",),
                value="sender",
            )
        if type(self.approvals) is not int or self.approvals < 0:
            raise SopError(
                f"{self.approvals!r} is not a number of approvals; write a whole number >= 0"
                " (approvals by officers other than the drafter; 1 = four-eyes)",
                path=("approvals",),
            )

    def _check_timing(self) -> None:
        for name in ("dispatch_within", "acknowledge_within", "retention"):
            value = getattr(self, name)
            if value is None and name != "retention":
                continue
            if not isinstance(value, timedelta) or value <= timedelta(0):
                raise SopError(f"{value!r} is not a positive duration", path=(name,))
        for role in self.escalate_to:
            choose(role, LOCAL_ROLES, path=("escalate_to",), noun="local role")
        _unique(self.escalate_to, path=("escalate_to",), noun="local role")
        has_deadline = self.dispatch_within is not None or self.acknowledge_within is not None
        if has_deadline and not self.escalate_to:
            raise SopError(
                "a deadline is set but nobody is told when it passes; name the local roles to"
                f' alert, e.g. escalate_to = ["approver"] (allowed: {", ".join(LOCAL_ROLES)})',
                path=("escalate_to",),
            )
        if self.escalate_to and not has_deadline:
            raise SopError(
                "escalate_to needs a deadline to escalate on; set dispatch_within or"
                " acknowledge_within, or remove escalate_to",
                path=("escalate_to",),
            )

    def _checked_fields(self) -> dict[Role, frozenset[str]]:
        checked: dict[Role, frozenset[str]] = {}
        for role in self.fields:
            choose(role, ROLES, path=("fields",), noun="role")
            if role not in self.to:
                raise SopError(
                    f"role {role!r} is given fields but is not in `to` ({', '.join(self.to)});"
                    " add it to `to` or remove its fields",
                    path=("fields", role),
                )
        for role in ROLES:  # a stable order, so that equal rules print alike
            if role not in self.to:
                continue
            if role not in self.fields:
                raise SopError(
                    f"role {role!r} is in `to` but has no fields; list the groups or fields it"
                    f' may see, e.g. {role} = ["case", "handling"]',
                    path=("fields",),
                )
            entries = self.fields[role]
            if isinstance(entries, str):
                raise SopError("write a list of groups or fields", path=("fields", role))
            granted = frozenset(_check_entry(e, path=("fields", role)) for e in entries)
            if not granted:
                raise SopError(
                    f"role {role!r} is given no fields; grant at least one group or remove"
                    " the role from `to`",
                    path=("fields", role),
                )
            self._check_personal(role, granted)
            self._check_routing_fields(role, granted)
            checked[role] = granted
        return checked

    def _check_routing_fields(self, role: Role, granted: frozenset[str]) -> None:
        # A receiving node tells which case role it holds from these countries (`role_of`);
        # without them it could not check the fields it received against its role.
        if role not in CASE_ROLES:
            return
        needed = [ROUTING_FIELDS[r] for r in CASE_ROLES if r in self.to]
        missing = [path for path in needed if not is_granted(path, granted)]
        if missing:
            raise SopError(
                f"role {role!r} must see {', '.join(missing)}: a receiving node tells its"
                ' role from these countries (granting "case" includes them)',
                path=("fields", role),
            )

    def _check_personal(self, role: Role, granted: frozenset[str]) -> None:
        personal = sorted(e for e in granted if e.partition(".")[0] in PERSONAL_GROUPS)
        if not personal:
            return
        if role == "parties":
            raise SopError(
                f"grants personal data ({', '.join(personal)}) to every party; personal data"
                " may go only to origin, transit or destination. Allowed for parties: "
                + ", ".join(g for g in FIELD_GROUPS if g not in PERSONAL_GROUPS),
                path=("fields", "parties"),
                value=personal[0],
            )
        if self.tlp not in TLPS_FOR_PERSONAL_DATA:
            raise SopError(
                f"TLP {self.tlp!r} allows community-wide sharing, but this rule grants personal"
                f" data ({', '.join(personal)}) to {role}; use one of:"
                f" {', '.join(TLPS_FOR_PERSONAL_DATA)}",
                path=("tlp",),
            )

    def _checked_required(self) -> frozenset[str]:
        if isinstance(self.required, str):
            raise SopError("write a list of field paths", path=("required",))
        required = frozenset(_check_path(p, path=("required",)) for p in self.required)
        if self.dispatch_within is not None and "case.identified_at_ms" not in required:
            raise SopError(
                "dispatch_within counts from the victim's identification, so the notice must"
                ' carry it: add "case.identified_at_ms" to required',
                path=("required",),
            )
        return required

    def granted(self, role: Role) -> frozenset[str]:
        """The entries `role` may see under this rule (empty if the rule does not send to it)."""
        return self.fields.get(role, frozenset())


# -- Sop -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Sop:
    """A standard operating procedure agreed by its parties.

    In force from `effective_from` (00:00 UTC) until `expires_on` (exclusive: on that day it no
    longer applies). `parties` is a tuple of node ids, or ("*",) for any node.
    """

    id: str
    version: int
    title: str
    legal_basis: tuple[str, ...]
    parties: tuple[str, ...]
    effective_from: date
    expires_on: date | None = None
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.fullmatch(self.id):
            raise SopError(
                f"{self.id!r} is not an SOP id; use lower-case letters, digits, '-', '_' or '.'"
                ', e.g. "para8-victim-notification"',
                path=("sop", "id"),
            )
        if type(self.version) is not int or self.version < 1:
            raise SopError(
                f"{self.version!r} is not a version; write a whole number >= 1 and raise it"
                " with every change",
                path=("sop", "version"),
            )
        for name in ("title",):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise SopError("must not be empty", path=("sop", name))
        if not self.legal_basis or not all(
            isinstance(b, str) and b.strip() for b in self.legal_basis
        ):
            raise SopError(
                "cite at least one legal basis (a non-empty list of non-empty texts)",
                path=("sop", "legal_basis"),
            )
        self._check_parties()
        self._check_dates()
        if not self.rules:
            raise SopError("an SOP needs at least one [[rule]]", path=("rule",))
        seen: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            if rule.kind in seen:
                raise SopError(
                    f"kind {rule.kind!r} already has a rule (#{seen[rule.kind] + 1}); one rule"
                    " per kind",
                    path=("rule", index, "kind"),
                    kind=rule.kind,
                )
            seen[rule.kind] = index

    def _check_parties(self) -> None:
        if not self.parties:
            raise SopError(
                'name the parties\' node ids, or ["*"] for any node', path=("sop", "parties")
            )
        if ANY_PARTY in self.parties and len(self.parties) > 1:
            raise SopError(
                '"*" means any node and cannot be combined with node ids',
                path=("sop", "parties"),
                value=ANY_PARTY,
            )
        for party in self.parties:
            if party != ANY_PARTY and not (isinstance(party, str) and _NODE_ID.fullmatch(party)):
                raise SopError(
                    f"{party!r} is not a node id (letters, digits, '-', '_', '.'), nor \"*\"",
                    path=("sop", "parties"),
                    value=party if isinstance(party, str) else None,
                )
        _unique(self.parties, path=("sop", "parties"), noun="party")

    def _check_dates(self) -> None:
        for name in ("effective_from", "expires_on"):
            value = getattr(self, name)
            if value is None and name == "expires_on":
                continue
            if not isinstance(value, date) or isinstance(value, datetime):
                raise SopError(
                    f"{value!r} is not a date; write e.g. {name} = 2021-01-01",
                    path=("sop", name),
                )
        if self.expires_on is not None and self.expires_on <= self.effective_from:
            raise SopError(
                f"expires on {self.expires_on}, not after effective_from {self.effective_from}",
                path=("sop", "expires_on"),
            )

    @property
    def any_party(self) -> bool:
        return self.parties == (ANY_PARTY,)

    def is_party(self, node_id: str) -> bool:
        return self.any_party or node_id in self.parties

    def in_force(self, day: date) -> bool:
        """True on the UTC calendar day `day`."""
        return self.effective_from <= day and (self.expires_on is None or day < self.expires_on)

    def rule_for(self, kind: str) -> Rule | None:
        for rule in self.rules:
            if rule.kind == kind:
                return rule
        return None

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return tuple(rule.kind for rule in self.rules)
