"""Read SOP files (TOML) into a `SopSet`, with errors that name the file, line and field.

The layout, one SOP per file:

    [sop]
    id = "para8-victim-notification"
    version = 1
    title = "..."
    legal_basis = ["...", "..."]
    parties = ["*"]                      # or node ids: ["fr-ncp", "br-ncp"]
    effective_from = 2021-01-01
    expires_on = 2031-01-01              # optional; the first day it no longer applies

    [[rule]]                             # one per notice kind
    kind = "victim_identification"
    to = ["origin", "transit", "destination"]
    approvals = 1
    dispatch_within = "72h"              # optional; from identification
    acknowledge_within = "48h"           # optional; from dispatch
    escalate_to = ["approver"]           # needed with a deadline
    retention = "1826d"
    tlp = "amber"
    handling_code = "h2"
    required = ["case.reference", "case.identified_at_ms"]

    [rule.fields]                        # role = groups or "group.field" paths
    origin = ["case", "victim", "facts", "handling"]
    transit = ["case", "facts", "victim.age_band"]

Why scan the text for lines: tomllib reports positions for syntax errors only, and keeps none
for values. Writing our own TOML parser to keep positions would be a larger and riskier piece of
code than a best-effort index of table headers and keys, which finds the line of nearly every
key an officer writes (headers, `key =` and `a.b =` lines, items of multi-line arrays). When it
cannot, the message still names the file and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

from gateway.core.sop_model import (
    HANDLING_CODES,
    KINDS,
    LOCAL_ROLES,
    ROLES,
    TLPS,
    Kind,
    LocalRole,
    Path,
    Role,
    Rule,
    Sop,
    SopError,
    choose,
)
from gateway.errors import ConfigError, UnknownSop

__all__ = [
    "SopSet",
    "SopSetError",
    "format_duration",
    "load_sops",
    "parse_duration",
    "parse_sop",
]

_TOP_KEYS: Final = ("sop", "rule")
_SOP_REQUIRED: Final = ("id", "version", "title", "legal_basis", "parties", "effective_from")
_SOP_OPTIONAL: Final = ("expires_on",)
_RULE_REQUIRED: Final = ("kind", "to", "approvals", "retention", "tlp", "handling_code", "fields")
_RULE_OPTIONAL: Final = ("dispatch_within", "acknowledge_within", "escalate_to", "required")


class SopSetError(ConfigError):
    """Several SOP files are wrong; `errors` holds one SopError per problem."""

    def __init__(self, errors: Iterable[SopError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(f"  {error}" for error in self.errors)
        super().__init__(f"{len(self.errors)} problems in SOP files:\n{lines}")


def parse_sop(text: str, *, source: str) -> Sop:
    """Parse and validate one SOP file. `source` names it in errors (usually its path)."""
    text = text.removeprefix("\ufeff")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), source) from None
    try:
        return _build(document)
    except SopError as exc:
        raise exc.at(source, _LineIndex(text).line_of(exc.path, exc.value)) from None


def load_sops(files: Iterable[tuple[str, str]]) -> SopSet:
    """Parse (source, text) pairs into a SopSet; reports the problems of every file at once."""
    sops: list[Sop] = []
    errors: list[SopError] = []
    seen: dict[tuple[str, int], str] = {}
    for source, text in files:
        try:
            sop = parse_sop(text, source=source)
        except SopError as exc:
            errors.append(exc)
            continue
        key = (sop.id, sop.version)
        if key in seen:
            errors.append(
                SopError(
                    f"SOP {sop.id!r} version {sop.version} is also defined in {seen[key]};"
                    " give a changed SOP a higher version, or remove one of the files",
                    path=("sop", "version"),
                    source=source,
                    line=_LineIndex(text).line_of(("sop", "version"), None),
                )
            )
            continue
        seen[key] = source
        sops.append(sop)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SopSetError(errors)
    return SopSet(sops=tuple(sops))


# -- SopSet ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SopSet:
    """The SOPs a node holds, by (id, version). Build it with `load_sops`."""

    sops: tuple[Sop, ...] = ()
    # Filled in by __post_init__.
    _index: Mapping[tuple[str, int], Sop] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.sops, key=lambda s: (s.id, s.version)))
        index: dict[tuple[str, int], Sop] = {}
        for sop in ordered:
            key = (sop.id, sop.version)
            if key in index:
                raise SopError(
                    f"SOP {sop.id!r} version {sop.version} is given twice", path=("sop", "version")
                )
            index[key] = sop
        object.__setattr__(self, "sops", ordered)
        object.__setattr__(self, "_index", MappingProxyType(index))

    def __iter__(self) -> Iterator[Sop]:
        return iter(self.sops)

    def __len__(self) -> int:
        return len(self.sops)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def ids(self) -> tuple[str, ...]:
        return tuple(sorted({sop.id for sop in self.sops}))

    def versions(self, sop_id: str) -> tuple[Sop, ...]:
        """Every version of `sop_id`, oldest first (empty if none)."""
        return tuple(sop for sop in self.sops if sop.id == sop_id)

    def get(self, sop_id: str, version: int) -> Sop:
        """The SOP with this id and version; raises UnknownSop (a peer named one we lack)."""
        try:
            return self._index[(sop_id, version)]
        except KeyError:
            held = ", ".join(f"v{sop.version}" for sop in self.versions(sop_id)) or "none"
            raise UnknownSop(
                f"no SOP {sop_id!r} version {version} (versions held: {held})"
            ) from None

    def latest(self, sop_id: str) -> Sop:
        """The highest version of `sop_id`; raises UnknownSop if none is held."""
        versions = self.versions(sop_id)
        if not versions:
            raise UnknownSop(f"no SOP {sop_id!r} (held: {', '.join(self.ids()) or 'none'})")
        return versions[-1]

    def for_kind(self, kind: str) -> tuple[Sop, ...]:
        """Every SOP (any version) with a rule for `kind`, by id then version."""
        return tuple(sop for sop in self.sops if sop.rule_for(kind) is not None)


# -- building --------------------------------------------------------------------------------


def _syntax_error(message: str, source: str) -> SopError:
    found = re.search(r"\(at line (\d+), column (\d+)\)$", message)
    if found:
        detail = message[: found.start()].rstrip()
        return SopError(
            f"TOML syntax error at column {found.group(2)}: {detail}",
            source=source,
            line=int(found.group(1)),
        )
    return SopError(f"TOML syntax error: {message}", source=source)


def _build(document: Mapping[str, object]) -> Sop:
    for key in document:
        if key not in _TOP_KEYS:
            raise SopError(
                f"unknown table or key {key!r} at the top level; allowed: [sop], [[rule]]",
                path=(key,),
            )
    head = document.get("sop")
    if not isinstance(head, dict):
        raise SopError(
            "missing [sop] table (id, version, title, legal_basis, parties, effective_from)",
            path=("sop",),
        )
    raw_rules = document.get("rule", [])
    if isinstance(raw_rules, dict):
        raise SopError(
            "write each rule as [[rule]] (double brackets): an SOP has a list of rules",
            path=("rule",),
        )
    if not isinstance(raw_rules, list) or not raw_rules:
        raise SopError("an SOP needs at least one [[rule]]", path=("rule",))
    _check_keys(head, allowed=_SOP_REQUIRED + _SOP_OPTIONAL, path=("sop",))
    _check_required(head, _SOP_REQUIRED, path=("sop",))
    rules = tuple(_build_rule(raw, index) for index, raw in enumerate(raw_rules))
    expires = head.get("expires_on")
    return Sop(
        id=_string(head["id"], path=("sop", "id")),
        version=_integer(head["version"], path=("sop", "version")),
        title=_string(head["title"], path=("sop", "title")),
        legal_basis=_strings(head["legal_basis"], path=("sop", "legal_basis")),
        parties=_strings(head["parties"], path=("sop", "parties")),
        effective_from=_date(head["effective_from"], path=("sop", "effective_from")),
        expires_on=None if expires is None else _date(expires, path=("sop", "expires_on")),
        rules=rules,
    )


def _build_rule(raw: object, index: int) -> Rule:
    if not isinstance(raw, dict):
        raise SopError("a rule must be a table", path=("rule", index))
    kind_value = raw.get("kind")
    kind = kind_value if isinstance(kind_value, str) and kind_value in KINDS else None
    try:
        return _rule_from(raw)
    except SopError as exc:
        raise exc.within("rule", index, kind=kind) from None


def _rule_from(raw: Mapping[str, object]) -> Rule:
    _check_keys(raw, allowed=_RULE_REQUIRED + _RULE_OPTIONAL, path=())
    _check_required(raw, _RULE_REQUIRED, path=())
    kind: Kind = choose(_string(raw["kind"], path=("kind",)), KINDS, path=("kind",), noun="kind")
    to: tuple[Role, ...] = tuple(
        choose(role, ROLES, path=("to",), noun="role") for role in _strings(raw["to"], path=("to",))
    )
    escalate_to: tuple[LocalRole, ...] = tuple(
        choose(role, LOCAL_ROLES, path=("escalate_to",), noun="local role")
        for role in _strings(raw.get("escalate_to", []), path=("escalate_to",), empty_ok=True)
    )
    return Rule(
        kind=kind,
        to=to,
        approvals=_integer(raw["approvals"], path=("approvals",)),
        dispatch_within=_optional_duration(raw, "dispatch_within"),
        acknowledge_within=_optional_duration(raw, "acknowledge_within"),
        escalate_to=escalate_to,
        retention=_duration(raw["retention"], path=("retention",)),
        tlp=choose(_string(raw["tlp"], path=("tlp",)), TLPS, path=("tlp",), noun="TLP level"),
        handling_code=choose(
            _string(raw["handling_code"], path=("handling_code",)).lower(),
            HANDLING_CODES,
            path=("handling_code",),
            noun="handling code",
        ),
        fields=_fields(raw["fields"]),
        required=frozenset(_strings(raw.get("required", []), path=("required",), empty_ok=True)),
    )


def _fields(raw: object) -> dict[Role, frozenset[str]]:
    if not isinstance(raw, dict):
        raise SopError(
            'write a [rule.fields] table: role = [groups or fields], e.g. origin = ["case"]',
            path=("fields",),
        )
    result: dict[Role, frozenset[str]] = {}
    for key, entries in raw.items():
        role = choose(key, ROLES, path=("fields", key), noun="role")
        result[role] = frozenset(_strings(entries, path=("fields", key), empty_ok=True))
    return result


# -- shapes ----------------------------------------------------------------------------------


def _check_keys(table: Mapping[str, object], *, allowed: tuple[str, ...], path: Path) -> None:
    for key in table:
        if key not in allowed:
            raise SopError(f"unknown key {key!r}; allowed: {', '.join(allowed)}", path=(*path, key))


def _check_required(table: Mapping[str, object], keys: tuple[str, ...], *, path: Path) -> None:
    for key in keys:
        if key not in table:
            raise SopError(f"missing required key {key!r}", path=(*path, key))


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (date, datetime)):
        return "a date"
    return "a text"


def _string(value: object, *, path: Path) -> str:
    if not isinstance(value, str):
        raise SopError(f"write a text in quotes, not {_type_name(value)}", path=path)
    if not value.strip():
        raise SopError("must not be empty", path=path)
    return value.strip()


def _strings(value: object, *, path: Path, empty_ok: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise SopError(
            f'write a list in brackets, e.g. ["a", "b"], not {_type_name(value)}', path=path
        )
    items = tuple(_string(item, path=path) for item in value)
    if not items and not empty_ok:
        raise SopError("the list must not be empty", path=path)
    return items


def _integer(value: object, *, path: Path) -> int:
    if type(value) is not int:
        raise SopError(f"write a whole number, not {_type_name(value)}", path=path)
    return value


def _date(value: object, *, path: Path) -> date:
    if isinstance(value, datetime):
        raise SopError("write a date without a time, e.g. 2021-01-01", path=path)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SopError(f"{value!r} is not a date; write e.g. 2021-01-01 (no quotes needed)", path=path)


def _duration(value: object, *, path: Path) -> timedelta:
    if not isinstance(value, str):
        raise SopError(f"write the duration in quotes; {DURATION_HELP}", path=path)
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise SopError(str(exc), path=path) from None


def _optional_duration(raw: Mapping[str, object], key: str) -> timedelta | None:
    return None if key not in raw else _duration(raw[key], path=(key,))


# -- durations -------------------------------------------------------------------------------

_UNITS: Final = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}
_SHORT = re.compile(r"([0-9]{1,9})([mhdw])")
_ISO = re.compile(
    r"P(?:(?P<w>[0-9]{1,9})W)?(?:(?P<d>[0-9]{1,9})D)?"
    r"(?:T(?:(?P<h>[0-9]{1,9})H)?(?:(?P<m>[0-9]{1,9})M)?(?:(?P<s>[0-9]{1,9})S)?)?"
)
DURATION_HELP: Final = (
    'write a whole number and a unit: "30m", "72h", "14d", "2w", or ISO 8601: "PT72H", "P14D"'
    ' (years and months have no fixed length: write days, e.g. five years = "1826d")'
)


def parse_duration(text: str) -> timedelta:
    """Parse "30m", "72h", "14d", "2w" or ISO 8601 "P3D", "PT12H", "P1DT6H". Raises ValueError."""
    compact = text.strip()
    short = _SHORT.fullmatch(compact)
    iso = None if short else _ISO.fullmatch(compact.upper())
    if not short and (iso is None or not any(iso.groupdict().values()) or compact[-1:] in "tT"):
        raise ValueError(f"{text!r} is not a duration; {DURATION_HELP}")
    try:
        if short:
            result = int(short.group(1)) * _UNITS[short.group(2)]
        else:
            assert iso is not None
            parts = {key: int(value or 0) for key, value in iso.groupdict().items()}
            result = timedelta(
                weeks=parts["w"],
                days=parts["d"],
                hours=parts["h"],
                minutes=parts["m"],
                seconds=parts["s"],
            )
    except OverflowError:
        raise ValueError(f"{text!r} is too long to be a duration") from None
    if result <= timedelta(0):
        raise ValueError(f"{text!r} is zero; a duration must be longer than that")
    return result


def format_duration(value: timedelta) -> str:
    """The largest whole unit that `parse_duration` reads back ("3d", "36h", "90m"), or ISO 8601
    days, hours, minutes and seconds ("P1DT0H0M5S") for anything finer than a minute."""
    for unit, size in _UNITS.items():
        if value % size == timedelta(0):
            return f"{value // size}{unit}"
    hours, rest = divmod(value.seconds, 3600)
    return f"P{value.days}DT{hours}H{rest // 60}M{rest % 60}S"


# -- finding lines ---------------------------------------------------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r"\"[^\"]*\"|'[^']*'"
_NAME = rf"(?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*"
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_NAME})\s*\]\]?\s*(?:#.*)?")
_KEY = re.compile(rf"\s*({_NAME})\s*=")


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in re.findall(rf"{_BARE}|{_QUOTED}", name))


class _LineIndex:
    """Best effort: the line (1-based) where each table header and key of a TOML text is."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.where: dict[Path, int] = {}
        self.starts: set[int] = set()  # lines that open a key or a table
        arrays: dict[tuple[str, ...], int] = {}
        table: Path = ()
        in_string = False
        for number, line in enumerate(self.lines, start=1):
            if in_string:
                in_string = (line.count('"""') + line.count("'''")) % 2 == 0
                continue
            header = _HEADER.fullmatch(line)
            if header:
                names = _parts(header.group(2))
                if header.group(1) == "[[":
                    arrays[names] = arrays.get(names, -1) + 1
                path: list[str | int] = []
                for depth in range(len(names)):
                    path.append(names[depth])
                    if names[: depth + 1] in arrays:
                        path.append(arrays[names[: depth + 1]])
                table = tuple(path)
                self.where.setdefault(table, number)
                self.starts.add(number)
                continue
            key = _KEY.match(line)
            if key:
                self.where.setdefault((*table, *_parts(key.group(1))), number)
                self.starts.add(number)
                in_string = (line.count('"""') + line.count("'''")) % 2 == 1

    def line_of(self, path: Path, value: str | None) -> int | None:
        """The line of `path`, or of its nearest enclosing table; of `value` in it if found."""
        for depth in range(len(path), 0, -1):
            line = self.where.get(path[:depth])
            if line is not None:
                break
        else:
            return None
        if value is None:
            return line
        quoted = (f'"{value}"', f"'{value}'")
        number = line
        while number <= len(self.lines):
            if any(q in self.lines[number - 1] for q in quoted):
                return number
            number += 1
            if number in self.starts:
                break
        return line
