"""Officers' notice files, the Notice protobuf, and the field views an SOP grants.

Problem: a notice has some fifty fields in eight groups, and each name must mean the same thing
in an officer's file, on the wire, in an SOP's field views and in the receiver's check.
Options: (a) a frozen dataclass per group, converted to and from protobuf by hand; (b) keep the
Notice protobuf as the in-memory value and walk its descriptor. Choice: (b). notice.proto is
then the only list of groups and fields (FIELD_PATHS is read from it and cannot drift), a field
view is a copy-and-clear of the very message that gets serialized, and a new field costs a
.proto line and a label. Callers hold a `notice_pb2.Notice` and only read it; every value in it
has passed the checks here. Officers' files and peers' payloads go through the same rules
(`_problems`), reported as ConfigError to the officer and as MalformedPayload to the peer.

Error messages name the file, the field path and what is allowed, and never a value: a value may
be a victim's name or document number.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from gateway._pb.gateway.v1 import common_pb2, notice_pb2
from gateway.core.labels import label
from gateway.errors import ConfigError, MalformedPayload

__all__ = [
    "FIELD_GROUPS",
    "FIELD_PATHS",
    "KINDS",
    "PERSONAL_GROUPS",
    "Routing",
    "apply_view",
    "decode_notice",
    "kind_name",
    "label",
    "notice_to_document",
    "parse_notice_document",
    "present_fields",
    "routing",
    "validate_notice",
]

# The stubs type DESCRIPTOR as "Python or upb descriptor"; both have the Python API used here.
_NOTICE: Final = cast("Descriptor", notice_pb2.Notice.DESCRIPTOR)


def _fields(msg: Message) -> Sequence[FieldDescriptor]:
    return cast("Descriptor", msg.DESCRIPTOR).fields


_GROUPS: Final = {f.name: f.message_type for f in _NOTICE.fields if f.message_type}
FIELD_GROUPS: Final[tuple[str, ...]] = tuple(_GROUPS)
FIELD_PATHS: Final[frozenset[str]] = frozenset(
    f"{group}.{field.name}" for group, desc in _GROUPS.items() for field in desc.fields
)
PERSONAL_GROUPS: Final[tuple[str, ...]] = ("victim",)
_GRANTABLE: Final = FIELD_PATHS | frozenset(FIELD_GROUPS)

# What a string field holds, by field name: a name means the same in every message. A test
# checks that every field whose name mentions a country is in _COUNTRY_FIELDS.
_COUNTRY_FIELDS: Final = frozenset(
    "origin_country transit_countries destination_country nationalities issuing_country"
    " exploitation_countries from_country to_country lead_country participating_countries".split()
)
_DATE_FIELDS: Final = frozenset(
    "date_of_birth expires_on period_start period_end departed_on".split()
)
_LANGUAGE_FIELDS: Final = frozenset({"languages"})
# Instants are Unix ms on the wire and RFC 3339 in files, under a key without the unit.
_INSTANT_KEYS: Final = {"identified_at_ms": "identified_at"}
# The officer's file names the SOP "sop"; the other top-level fields are set by the node.
_TOP_KEYS: Final = {"kind": "kind", "sop": "sop_id", "sop_version": "sop_version"}
_DOC_NAMES: Final = {"sop_id": "sop", **_INSTANT_KEYS}
# Groups that belong to some kinds only; the others may appear in any kind.
_KIND_GROUPS: Final = {
    "response": ("acknowledgement", "joint_investigation_response"),
    "amendment": ("correction", "withdrawal"),
    "investigation": ("joint_investigation_request",),
}

_COUNTRY_RE: Final = re.compile(r"[A-Z]{2}")
_LANGUAGE_RE: Final = re.compile(r"[a-z]{2}")
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RFC3339_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS: Final = dt.timedelta(milliseconds=1)
_MAX_MS: Final = (dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=dt.UTC) - _EPOCH) // _MS
_UINT32_MAX: Final = 2**32 - 1
_INSTANT_EXAMPLE: Final = "e.g. 2025-03-14T09:30:00+01:00"


@functools.cache
def _codes(enum: EnumDescriptor) -> dict[str, int]:
    """Lowercase code names, as officers write them: SEX_FEMALE -> "female", TLP_RED -> "red"."""
    prefix = enum.values_by_number[0].name.removesuffix("UNSPECIFIED")
    return {v.name.removeprefix(prefix).lower(): v.number for v in enum.values if v.number}


@functools.cache
def _code_names(enum: EnumDescriptor) -> dict[int, str]:
    return {number: name for name, number in _codes(enum).items()}


_KIND_ENUM: Final = _NOTICE.fields_by_name["kind"].enum_type
KINDS: Final[Mapping[str, common_pb2.NoticeKind]] = {
    name: cast("common_pb2.NoticeKind", number) for name, number in _codes(_KIND_ENUM).items()
}


def kind_name(kind: int) -> str:
    """The name of a NoticeKind value ("victim_identification"); ValueError if it has none."""
    name = _code_names(_KIND_ENUM).get(kind)
    if name is None:
        raise ValueError(f"not a notice kind: {kind}")
    return name


# --- officers' files -> protobuf --------------------------------------------------------------


def parse_notice_document(data: Mapping[str, object], *, source: str) -> notice_pb2.Notice:
    """An officer's notice (a TOML or JSON document, already loaded) as a checked Notice.

    `source` names the file in errors. notice_id, sender_node_id and created_at_ms are left
    for the node to set when it drafts the notice.
    """
    notice = notice_pb2.Notice()
    _fill(notice, data, "", source)
    for path, problem in _problems(notice):
        doc_path = ".".join(_DOC_NAMES.get(part, part) for part in path.split("."))
        raise ConfigError(f"{source}: {doc_path} {problem}")
    return notice


def _doc_keys(desc: Descriptor) -> dict[str, FieldDescriptor]:
    if desc.full_name == _NOTICE.full_name:
        names = {**_TOP_KEYS, **{group: group for group in FIELD_GROUPS}}
    else:
        names = {_INSTANT_KEYS.get(f.name, f.name): f.name for f in desc.fields}
    return {key: desc.fields_by_name[name] for key, name in names.items()}


def _fill(msg: Message, table: object, path: str, source: str) -> None:
    if not isinstance(table, Mapping):
        raise _bad(source, path or "the notice", f"must be a table, got {_what(table)}")
    keys = _doc_keys(cast("Descriptor", msg.DESCRIPTOR))
    for key, value in table.items():
        field = keys.get(key) if isinstance(key, str) else None
        if field is None:
            shown = repr(key[:40]) if isinstance(key, str) else _what(key)
            raise ConfigError(
                f"{source}: unknown key {shown} in {path or 'the top level'};"
                f" allowed keys: {', '.join(keys)}"
            )
        where = f"{path}.{key}" if path else key
        if not field.is_repeated:
            _put(msg, field, value, where, source)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                _put(msg, field, item, f"{where}[{i}]", source)
        else:
            raise _bad(source, where, f"must be a list, got {_what(value)}")


def _put(msg: Message, field: FieldDescriptor, value: object, where: str, source: str) -> None:
    target = getattr(msg, field.name)
    if field.message_type is not None:
        _fill(target.add() if field.is_repeated else target, value, where, source)
    elif field.is_repeated:
        target.append(_convert(field, value, where, source))
    else:
        setattr(msg, field.name, _convert(field, value, where, source))


def _convert(field: FieldDescriptor, value: object, where: str, source: str) -> object:
    if field.enum_type is not None:
        codes = _codes(field.enum_type)
        if isinstance(value, str) and value in codes:
            return codes[value]
        got = "" if isinstance(value, str) else f", got {_what(value)}"
        raise _bad(source, where, f"must be one of: {', '.join(codes)}{got}")
    if field.name in _INSTANT_KEYS:
        return _instant_ms(value, where, source)
    if field.type == FieldDescriptor.TYPE_BOOL:
        if isinstance(value, bool):
            return value
        raise _bad(source, where, f"must be true or false, got {_what(value)}")
    if field.type == FieldDescriptor.TYPE_UINT32:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _UINT32_MAX:
            return value
        raise _bad(source, where, f"must be a whole number from 1 to {_UINT32_MAX}")
    if field.type == FieldDescriptor.TYPE_STRING:
        if field.name in _DATE_FIELDS and type(value) is dt.date:
            return value.isoformat()  # a TOML local date
        if not isinstance(value, str):
            raise _bad(source, where, f"must be a string, got {_what(value)}")
        if not value.isascii():  # JSON can carry lone surrogates, which are not UTF-8
            try:
                value.encode()
            except UnicodeEncodeError:
                raise _bad(source, where, "must be valid Unicode text") from None
        return value
    raise AssertionError(f"no conversion for {field.full_name}")  # a new field type in .proto


def _instant_ms(value: object, where: str, source: str) -> int:
    if isinstance(value, str):
        if not _RFC3339_RE.fullmatch(value):
            raise _bad(source, where, f"must be an RFC 3339 time, {_INSTANT_EXAMPLE}")
        try:
            value = dt.datetime.fromisoformat(value[:10] + "T" + value[11:].upper())
        except ValueError:
            # `from None`: the ValueError's text repeats the value, which must not be logged.
            raise _bad(source, where, f"is not a real time, {_INSTANT_EXAMPLE}") from None
    if not isinstance(value, dt.datetime):
        raise _bad(source, where, f"must be an RFC 3339 time string, got {_what(value)}")
    if value.utcoffset() is None:
        raise _bad(source, where, f"must include a time zone offset, {_INSTANT_EXAMPLE}")
    ms = (value - _EPOCH) // _MS
    if not 0 < ms <= _MAX_MS:
        raise _bad(source, where, "must be after 1970-01-01T00:00:00Z")
    return ms


def _bad(source: str, where: str, problem: str) -> ConfigError:
    return ConfigError(f"{source}: {where} {problem}")


# The kinds of value a TOML or JSON loader gives, most specific first (bool is an int).
_VALUE_KINDS: Final = {
    bool: "true or false",
    int: "a whole number",
    float: "a decimal number",
    str: "a string",
    dt.datetime: "a date and time",
    dt.date: "a date",
    dt.time: "a time of day",
    list: "a list",
    Mapping: "a table",
    type(None): "null",
}


def _what(value: object) -> str:
    """The kind of a value, for error messages, which never show the value itself."""
    return next((what for t, what in _VALUE_KINDS.items() if isinstance(value, t)), "a value")


# --- protobuf -> documents ----------------------------------------------------------------------


def notice_to_document(notice: notice_pb2.Notice) -> dict[str, object]:
    """The officer's-file form of a notice: codes as names, only what is set.

    The inverse of parse_notice_document (instants come back as UTC "...Z" strings). The node's
    own fields (notice_id, sender_node_id, created_at_ms) are not part of it. ValueError for a
    code that notice.proto does not define: validate a peer's notice first.
    """
    doc: dict[str, object] = {}
    if notice.kind:
        doc["kind"] = kind_name(notice.kind)
    if notice.sop_id:
        doc["sop"] = notice.sop_id
    if notice.sop_version:
        doc["sop_version"] = notice.sop_version
    for group in FIELD_GROUPS:
        table = _to_table(getattr(notice, group))
        if table:
            doc[group] = table
    return doc


def _to_table(msg: Message) -> dict[str, object]:
    table: dict[str, object] = {}
    for field in _fields(msg):
        if _is_set(msg, field):
            value = getattr(msg, field.name)
            key = _INSTANT_KEYS.get(field.name, field.name)
            if field.is_repeated:
                table[key] = [_to_value(field, item) for item in value]
            else:
                table[key] = _to_value(field, value)
    return table


def _to_value(field: FieldDescriptor, value: object) -> object:
    if field.message_type is not None:
        return _to_table(cast("Message", value))
    if field.enum_type is not None:
        name = _code_names(field.enum_type).get(cast("int", value))
        if name is None:
            raise ValueError(f"{field.full_name} holds an unknown code")
        return name
    if field.name in _INSTANT_KEYS:
        stamp = _EPOCH + cast("int", value) * _MS
        fraction = f".{stamp.microsecond // 1000:03d}" if stamp.microsecond else ""
        return f"{stamp:%Y-%m-%dT%H:%M:%S}{fraction}Z"
    return value


# --- payloads from peers --------------------------------------------------------------------


def decode_notice(payload: bytes) -> notice_pb2.Notice:
    """Parse a decrypted payload. It is not checked yet: call validate_notice next."""
    notice = notice_pb2.Notice()
    try:
        notice.ParseFromString(payload)
    except DecodeError as exc:
        raise MalformedPayload("the payload is not a Notice protobuf") from exc
    return notice


def validate_notice(notice: notice_pb2.Notice) -> None:
    """Raise MalformedPayload, naming the field path, if a peer's notice breaks a rule.

    Fields our notice.proto does not know are refused rather than ignored: the receiver could
    not tell whether its SOP grants them (DESIGN.md section 5, the field check).
    """
    missing = [name for name in ("notice_id", "sender_node_id") if not getattr(notice, name)]
    problems = [(name, "is missing") for name in missing]
    stripped = notice_pb2.Notice()
    stripped.CopyFrom(notice)
    stripped.DiscardUnknownFields()
    if stripped.ByteSize() != notice.ByteSize():
        problems.append(("", "has fields that are not in this node's notice.proto"))
    if notice.created_at_ms < 0:
        problems.append(("created_at_ms", "must not be before 1970"))
    problems.extend(_problems(notice))
    if problems:
        path, problem = problems[0]
        raise MalformedPayload(" ".join(part for part in ("notice", path, problem) if part))


# --- rules shared by officers' files and peers' payloads -------------------------------------


def _problems(notice: notice_pb2.Notice) -> Iterator[tuple[str, str]]:
    """(field path, what is wrong) for every broken rule, in field order."""
    kind = _code_names(_KIND_ENUM).get(notice.kind)
    if kind is None:
        yield "kind", f"is missing or unknown; known kinds: {', '.join(KINDS)}"
    if not notice.sop_id:
        yield "sop_id", "is missing: name the SOP the notice is sent under"
    for group in FIELD_GROUPS:
        if notice.HasField(group):
            kinds = _KIND_GROUPS.get(group)
            if kinds is not None and kind not in kinds:
                yield group, f"is only for notices of kind {' or '.join(kinds)}"
            yield from _message_problems(getattr(notice, group), group)
    facts = notice.facts
    if _is_date(facts.period_start) and _is_date(facts.period_end):
        if facts.period_end < facts.period_start:  # YYYY-MM-DD strings order as dates do
            yield "facts.period_end", "must not be before facts.period_start"


def _message_problems(msg: Message, path: str) -> Iterator[tuple[str, str]]:
    # ListFields gives only the fields that carry a value; unset fields break no rule. With the
    # per-field rules looked up once (_rule), this stays cheap on the receive path.
    for field, value in msg.ListFields():
        name, is_message, is_repeated, is_enum, check = _rule(field)
        if is_message:  # only repeated sub-messages below a group
            for i, item in enumerate(value):
                yield from _message_problems(item, f"{path}.{name}[{i}]")
            continue
        if is_repeated:
            if check is not None:
                for i, item in enumerate(value):
                    problem = check(item)
                    if problem:
                        yield f"{path}.{name}[{i}]", problem
            if is_enum and len(set(value)) != len(value):
                yield f"{path}.{name}", "lists the same code more than once"
        elif check is not None:
            problem = check(value)
            if problem:
                yield f"{path}.{name}", problem


@functools.cache
def _rule(
    field: FieldDescriptor,
) -> tuple[str, bool, bool, bool, Callable[[Any], str | None] | None]:
    return (
        field.name,
        field.message_type is not None,
        field.is_repeated,
        field.enum_type is not None,
        _checker(field),
    )


def _value_problem(field: FieldDescriptor, value: object, *, required: bool) -> str | None:
    """What is wrong with one value; a list item is `required`, a single field may be unset."""
    if not value and not required:
        return None
    check = _checker(field)
    return None if check is None else check(value)


@functools.cache
def _checker(field: FieldDescriptor) -> Callable[[Any], str | None] | None:
    """The rule for one field's values, built once per field (this runs on every receive)."""
    if field.enum_type is not None:
        names = _code_names(field.enum_type)
        wrong = f"must be one of: {', '.join(_codes(field.enum_type))}"
        return lambda v: None if v in names else wrong
    if field.name in _COUNTRY_FIELDS:
        return _pattern_check(
            _COUNTRY_RE, "must be an ISO 3166-1 alpha-2 country code: two capital letters, e.g. FR"
        )
    if field.name in _LANGUAGE_FIELDS:
        return _pattern_check(
            _LANGUAGE_RE, "must be an ISO 639-1 language code: two small letters, e.g. pt"
        )
    if field.name in _DATE_FIELDS:
        wrong = "must be a real date written YYYY-MM-DD, e.g. 2025-03-14"
        return lambda v: None if _is_date(v) else wrong
    if field.name in _INSTANT_KEYS:
        wrong = "must be a time between 1970 and 9999"
        return lambda v: None if 0 < v <= _MAX_MS else wrong
    return None


def _pattern_check(pattern: re.Pattern[str], wrong: str) -> Callable[[Any], str | None]:
    return lambda v: None if pattern.fullmatch(v) else wrong


def _is_date(text: str) -> bool:
    try:
        return bool(_DATE_RE.fullmatch(text)) and bool(dt.date.fromisoformat(text))
    except ValueError:
        return False


# --- field views ----------------------------------------------------------------------------


def _is_set(msg: Message, field: FieldDescriptor) -> bool:
    if field.is_repeated:
        return len(getattr(msg, field.name)) > 0
    if field.has_presence:
        return msg.HasField(field.name)
    return bool(getattr(msg, field.name))  # proto3 defaults are 0, "" and False


def present_fields(notice: notice_pb2.Notice) -> frozenset[str]:
    """The "group.field" paths that carry a value (non-default, non-empty)."""
    # ListFields lists exactly the set fields: non-default scalars, non-empty lists, and
    # fields with presence (e.g. `optional bool is_child`) that were assigned.
    return frozenset(
        f"{group.name}.{field.name}"
        for group, sub in notice.ListFields()
        if group.name in _GROUPS
        for field, _ in sub.ListFields()
    )


def apply_view(notice: notice_pb2.Notice, allowed: frozenset[str]) -> notice_pb2.Notice:
    """A copy of `notice` with only what `allowed` grants, and no unknown fields.

    An entry of `allowed` is a group ("victim": all of it) or a field path ("victim.age_band").
    Top-level fields are always kept. ValueError for an entry that is neither: a typo in a view
    must not silently withhold (or leak) a field.
    """
    unknown = allowed - _GRANTABLE
    if unknown:
        raise ValueError(f"not a field group or field path: {', '.join(sorted(unknown))}")
    view = notice_pb2.Notice()
    view.CopyFrom(notice)
    view.DiscardUnknownFields()
    for group, desc in _GROUPS.items():
        if group in allowed or not view.HasField(group):
            continue
        sub = getattr(view, group)
        for field in desc.fields:
            if f"{group}.{field.name}" not in allowed:
                sub.ClearField(field.name)
        if not any(_is_set(sub, field) for field in desc.fields):
            view.ClearField(group)
    return view


# --- routing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    """What the SOP engine needs to pick recipients: the kind and the case's countries."""

    kind: str
    origin: str | None
    transit: tuple[str, ...]
    destination: str | None
    identified_at_ms: int | None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"not a notice kind: {self.kind!r}")
        for country in (self.origin, self.destination, *self.transit):
            if country is not None and not _COUNTRY_RE.fullmatch(country):
                raise ValueError("a routing country is not an ISO 3166-1 alpha-2 code")


def routing(notice: notice_pb2.Notice) -> Routing:
    """The routing facts of a checked notice (ValueError if its kind or countries are bad)."""
    case = notice.case
    return Routing(
        kind=kind_name(notice.kind),
        origin=case.origin_country or None,
        transit=tuple(case.transit_countries),
        destination=case.destination_country or None,
        identified_at_ms=case.identified_at_ms or None,
    )
