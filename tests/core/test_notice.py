"""Notice files, the Notice protobuf, field views and the checks on peers' payloads."""

from __future__ import annotations

import copy
import datetime as dt
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway._pb.gateway.v1 import common_pb2, notice_pb2
from gateway.core import notice as nt
from gateway.core.labels import LABELS, label
from gateway.errors import ConfigError, MalformedPayload

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "notices"
SOURCE = "notices/test-notice.toml"

# The contract other code relies on: written out by hand, not read from the descriptor.
EXPECTED_GROUPS = (
    "case",
    "victim",
    "facts",
    "modus_operandi",
    "handling",
    "response",
    "amendment",
    "investigation",
)
EXPECTED_FIELDS = {
    "case": "reference origin_country transit_countries destination_country identified_at_ms"
    " identified_place identifying_authority",
    "victim": "family_name given_names date_of_birth age_band sex nationalities identity_documents"
    " languages is_child special_needs protection_status consent_to_share",
    "facts": "acts means purposes exploitation_countries period_start period_end",
    "modus_operandi": "recruitment_methods ict_platforms route_legs documents_used"
    " financial_indicators organised_group_indicators",
    "handling": "tlp handling_code source_evaluation information_evaluation purpose retention_days",
    "response": "related_notice_id outcome contact_unit",
    "amendment": "related_notice_id reason",
    "investigation": "lead_country participating_countries contact_unit",
}
COUNTRY_FIELDS = {
    "case.origin_country",
    "case.transit_countries",
    "case.destination_country",
    "victim.nationalities",
    "victim.identity_documents.issuing_country",
    "facts.exploitation_countries",
    "modus_operandi.route_legs.from_country",
    "modus_operandi.route_legs.to_country",
    "investigation.lead_country",
    "investigation.participating_countries",
}
DATE_FIELDS = {
    "victim.date_of_birth",
    "victim.identity_documents.expires_on",
    "facts.period_start",
    "facts.period_end",
    "modus_operandi.route_legs.departed_on",
}
FREE_TEXT_FIELDS = {
    "case.reference",
    "case.identified_place",
    "case.identifying_authority",
    "victim.family_name",
    "victim.given_names",
    "victim.identity_documents.number",
    "modus_operandi.ict_platforms.platform_name",
    "modus_operandi.ict_platforms.account_identifier",
    "handling.purpose",
    "response.related_notice_id",
    "response.contact_unit",
    "amendment.related_notice_id",
    "investigation.contact_unit",
}
KIND_GROUPS = {
    "response": {"acknowledgement", "joint_investigation_response"},
    "amendment": {"correction", "withdrawal"},
    "investigation": {"joint_investigation_request"},
}


def load(name: str) -> dict[str, Any]:
    with (FIXTURES / name).open("rb") as f:
        return tomllib.load(f)


def sub_descriptor(field: Any) -> Descriptor:
    desc: Descriptor = field.message_type
    assert desc is not None
    return desc


def all_paths() -> dict[str, Any]:
    """Every field below a group, nested ones as "group.field.sub"."""
    out: dict[str, Any] = {}

    def walk(desc: Descriptor, prefix: str) -> None:
        for field in desc.fields:
            out[f"{prefix}.{field.name}"] = field
            if field.message_type is not None:
                walk(field.message_type, f"{prefix}.{field.name}")

    for group in nt.FIELD_GROUPS:
        walk(sub_descriptor(notice_pb2.Notice.DESCRIPTOR.fields_by_name[group]), group)
    return out


# --- the contract -------------------------------------------------------------------------------


def test_field_groups_and_paths_are_pinned() -> None:
    assert nt.FIELD_GROUPS == EXPECTED_GROUPS
    expected = {f"{g}.{f}" for g, names in EXPECTED_FIELDS.items() for f in names.split()}
    assert expected == nt.FIELD_PATHS
    assert nt.PERSONAL_GROUPS == ("victim",)


def test_kinds_are_the_design_names() -> None:
    assert dict(nt.KINDS) == {
        "victim_identification": common_pb2.NOTICE_KIND_VICTIM_IDENTIFICATION,
        "modus_operandi": common_pb2.NOTICE_KIND_MODUS_OPERANDI,
        "acknowledgement": common_pb2.NOTICE_KIND_ACKNOWLEDGEMENT,
        "joint_investigation_request": common_pb2.NOTICE_KIND_JOINT_INVESTIGATION_REQUEST,
        "joint_investigation_response": common_pb2.NOTICE_KIND_JOINT_INVESTIGATION_RESPONSE,
        "correction": common_pb2.NOTICE_KIND_CORRECTION,
        "withdrawal": common_pb2.NOTICE_KIND_WITHDRAWAL,
    }
    for name, value in nt.KINDS.items():
        assert nt.kind_name(value) == name
    for bad in (common_pb2.NOTICE_KIND_UNSPECIFIED, 99):
        with pytest.raises(ValueError, match="not a notice kind"):
            nt.kind_name(bad)


def test_every_field_and_code_has_a_label_and_no_label_is_stale() -> None:
    expected = {"kind", "notice_id", "sop_id", "sop_version", "sender_node_id", "created_at_ms"}
    expected |= set(nt.FIELD_GROUPS)
    expected |= {f"kind:{name}" for name in nt.KINDS}
    for path, field in all_paths().items():
        expected.add(path)
        if field.enum_type is not None:
            prefix = field.enum_type.values_by_number[0].name.removesuffix("UNSPECIFIED")
            for value in field.enum_type.values[1:]:
                expected.add(f"{path}:{value.name.removeprefix(prefix).lower()}")
    assert set(LABELS) == expected
    assert nt.label("facts.means", "abuse_of_vulnerability") == (
        "Abuse of a position of vulnerability"
    )
    assert label("victim.family_name") == "Family name"
    with pytest.raises(KeyError):
        label("facts.means", "bribery")


# --- officers' files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["victim-identification.toml", "modus-operandi.toml"])
def test_fixture_round_trips(name: str) -> None:
    doc = load(name)
    notice = nt.parse_notice_document(doc, source=name)
    again: dict[str, Any] = nt.notice_to_document(notice)
    # Instants come back in UTC; everything else comes back exactly as written.
    if "identified_at" in doc.get("case", {}):
        written = dt.datetime.fromisoformat(doc["case"].pop("identified_at"))
        returned = dt.datetime.fromisoformat(again["case"].pop("identified_at"))
        assert written == returned
    assert again == doc
    assert nt.parse_notice_document(nt.notice_to_document(notice), source=name) == notice


def test_victim_identification_fixture() -> None:
    notice = nt.parse_notice_document(load("victim-identification.toml"), source="v")
    nt.validate_notice(with_node_fields(notice))
    groups = {path.split(".")[0] for path in nt.present_fields(notice)}
    assert groups == {"case", "victim", "facts", "modus_operandi", "handling"}
    assert notice.sop_id == "para8-victim-notification"
    assert nt.routing(notice) == nt.Routing(
        kind="victim_identification",
        origin="BR",
        transit=("HN",),
        destination="FR",
        identified_at_ms=1741941000000,  # 2025-03-14T08:30:00Z
    )


def test_modus_operandi_fixture() -> None:
    notice = nt.parse_notice_document(load("modus-operandi.toml"), source="m")
    nt.validate_notice(with_node_fields(notice))
    assert notice.kind == common_pb2.NOTICE_KIND_MODUS_OPERANDI
    assert notice.sop_id == "para10-modus-operandi"
    assert not notice.HasField("victim")
    assert len(notice.modus_operandi.ict_platforms) >= 2
    doc: dict[str, Any] = nt.notice_to_document(notice)
    assert "social_media" in doc["modus_operandi"]["recruitment_methods"]
    assert nt.routing(notice).identified_at_ms is None


def minimal(**groups: Any) -> dict[str, Any]:
    return {"kind": "victim_identification", "sop": "para8-victim-notification", **groups}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T09:30:00+01:00", "2025-03-14T08:30:00Z"),
        ("2025-03-14t08:30:00z", "2025-03-14T08:30:00Z"),
        ("2025-03-14 08:30:00.25Z", "2025-03-14T08:30:00.250Z"),
        ("2025-03-14T08:30:00.123456789-00:00", "2025-03-14T08:30:00.123Z"),
        (dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))), None),
    ],
)
def test_identified_at_accepts_rfc3339_strings_and_toml_datetimes(
    text: object, expected: str | None
) -> None:
    notice = nt.parse_notice_document(minimal(case={"identified_at": text}), source=SOURCE)
    doc: dict[str, Any] = nt.notice_to_document(notice)
    assert doc["case"]["identified_at"] == (expected or "2025-03-14T08:30:00Z")


def test_toml_native_dates_are_accepted() -> None:
    doc = tomllib.loads(
        'kind = "modus_operandi"\nsop = "x"\n[facts]\nperiod_start = 2024-06-01\n'
        "[case]\nidentified_at = 2025-03-14T09:30:00+01:00\n"
    )
    notice = nt.parse_notice_document(doc, source=SOURCE)
    assert notice.facts.period_start == "2024-06-01"
    assert notice.case.identified_at_ms == 1741941000000


def test_is_child_false_is_kept() -> None:
    notice = nt.parse_notice_document(minimal(victim={"is_child": False}), source=SOURCE)
    assert nt.present_fields(notice) == {"victim.is_child"}
    assert nt.notice_to_document(notice)["victim"] == {"is_child": False}


def set_path(doc: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split(".")
    target: Any = doc
    for part in parents:
        target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
    if value is DELETE:
        del target[last]
    else:
        target[last] = value


DELETE = object()
NAIVE = dt.datetime(2025, 3, 14, 9, 30)
# (where to put it, the bad value, what the message must say). Each message must also start with
# the file name and must not contain the bad value (nor any victim data from the fixture).
BAD_INPUTS: list[tuple[str, object, str]] = [
    ("victim.family_name", 42, "victim.family_name must be a string, got a whole number"),
    ("victim.given_names", ["Ana"], "victim.given_names must be a string, got a list"),
    ("victim.famly_name", "Exemplo", "unknown key 'famly_name' in victim; allowed keys:"),
    ("colour", "blue", "unknown key 'colour' in the top level; allowed keys: kind, sop"),
    ("victim.sex", "woman", "victim.sex must be one of: female, male, other, unknown"),
    ("victim.sex", 1, "victim.sex must be one of: female, male, other, unknown, got a whole"),
    ("handling.tlp", "AMBER", "handling.tlp must be one of: clear, green, amber, amber_strict"),
    ("handling.information_evaluation", 2, "must be one of: 1, 2, 3, 4, got a whole number"),
    ("facts.means", ["deception", "lies"], "facts.means[1] must be one of: threat, force"),
    ("facts.means", "deception", "facts.means must be a list, got a string"),
    ("facts.means", ["fraud", "fraud"], "facts.means lists the same code more than once"),
    ("case.origin_country", "Brazil", "case.origin_country must be an ISO 3166-1 alpha-2"),
    ("case.transit_countries", ["HN", "gt"], "case.transit_countries[1] must be an ISO 3166-1"),
    ("victim.nationalities", [None], "victim.nationalities[0] must be a string, got null"),
    ("victim.identity_documents.0.issuing_country", "BRA", "identity_documents[0].issuing_coun"),
    ("victim.identity_documents.0.number", 7700123, "identity_documents[0].number must be a str"),
    ("victim.identity_documents", [{"numbr": "X1"}], "unknown key 'numbr' in victim.identity_doc"),
    ("victim.identity_documents", ["XX0000001"], "victim.identity_documents[0] must be a table"),
    ("victim.date_of_birth", "2003-02-30", "victim.date_of_birth must be a real date written"),
    ("victim.date_of_birth", "21/07/2003", "victim.date_of_birth must be a real date written"),
    ("victim.date_of_birth", NAIVE, "victim.date_of_birth must be a string, got a date and time"),
    ("victim.languages", ["por"], "victim.languages[0] must be an ISO 639-1 language code"),
    ("victim.is_child", "no", "victim.is_child must be true or false, got a string"),
    ("victim.is_child", 0, "victim.is_child must be true or false, got a whole number"),
    ("handling.retention_days", -1, "handling.retention_days must be a whole number from 1"),
    ("handling.retention_days", True, "handling.retention_days must be a whole number from 1"),
    ("handling.retention_days", 30.5, "handling.retention_days must be a whole number from 1"),
    ("sop_version", 0, "sop_version must be a whole number from 1 to 4294967295"),
    ("kind", DELETE, "kind is missing or unknown; known kinds: victim_identification, modus"),
    ("kind", "victim", "kind must be one of: victim_identification, modus_operandi"),
    ("sop", DELETE, "sop is missing: name the SOP"),
    ("sop", "", "sop is missing: name the SOP"),
    ("case.identified_at", "2025-03-14 09:30", "case.identified_at must be an RFC 3339 time"),
    ("case.identified_at", "2025-13-01T00:00:00Z", "case.identified_at is not a real time"),
    ("case.identified_at", NAIVE, "case.identified_at must include a time zone offset"),
    ("case.identified_at", 1741941000, "case.identified_at must be an RFC 3339 time string, got"),
    ("case.identified_at", "1969-12-31T23:59:59Z", "case.identified_at must be after 1970"),
    ("facts.period_end", "2024-08-31", "facts.period_end must not be before facts.period_start"),
    ("victim", "Ana Exemplo Teste", "victim must be a table, got a string"),
    ("response", {"outcome": "accepted"}, "response is only for notices of kind acknowledgement"),
    (
        "investigation",
        {"lead_country": "FR"},
        "investigation is only for notices of kind joint_investigation_request",
    ),
]
# Victim data from the fixture, and the bad values above: none may appear in a message.
NEVER_SHOWN = (
    *("Exemplo", "Ana", "XX0000001", "2003-07-21", "Brazil", "woman", "AMBER", "lies", "BRA"),
    *("7700123", "21/07", "2003-02-30", "por", "1741941000", "2025-13", "1969", "2024-08-31"),
    "X1",
)


@pytest.mark.parametrize(("path", "value", "message"), BAD_INPUTS)
def test_bad_input_names_file_and_field_and_not_the_value(
    path: str, value: object, message: str
) -> None:
    doc = load("victim-identification.toml")
    set_path(doc, path, value)
    with pytest.raises(ConfigError) as info:
        nt.parse_notice_document(doc, source=SOURCE)
    text = str(info.value)
    assert text.startswith(f"{SOURCE}: ")
    assert message in text
    for secret in NEVER_SHOWN:
        assert secret not in text


def test_document_that_is_not_a_table() -> None:
    with pytest.raises(ConfigError, match=r"^f\.json: the notice must be a table, got a list$"):
        nt.parse_notice_document([], source="f.json")  # type: ignore[arg-type]


def test_long_unknown_keys_are_cut() -> None:
    with pytest.raises(ConfigError) as info:
        nt.parse_notice_document(minimal(victim={"x" * 500: 1}), source=SOURCE)
    assert "x" * 41 not in str(info.value)


# --- peers' payloads ----------------------------------------------------------------------------


def with_node_fields(notice: notice_pb2.Notice) -> notice_pb2.Notice:
    out = notice_pb2.Notice()
    out.CopyFrom(notice)
    out.notice_id = "fr-ncp/2025/0001"
    out.sender_node_id = "fr-ncp"
    out.created_at_ms = 1741941000000
    return out


def fixture_notice() -> notice_pb2.Notice:
    doc = load("victim-identification.toml")
    return with_node_fields(nt.parse_notice_document(doc, source="v"))


def test_decode_round_trips_a_valid_notice() -> None:
    notice = fixture_notice()
    decoded = nt.decode_notice(notice.SerializeToString())
    assert decoded == notice
    nt.validate_notice(decoded)


@pytest.mark.parametrize(
    "payload", [b"\xff\xff\xff", b"\x0a\x05ab", b"\x12\x01", b"\x0a\x02\xc3\x28", b"\x07"]
)
def test_decode_of_garbage_raises_malformed_payload(payload: bytes) -> None:
    with pytest.raises(MalformedPayload) as info:
        nt.decode_notice(payload)
    assert isinstance(info.value.__cause__, DecodeError)
    assert info.value.code == "malformed_payload"


def raw(container: object) -> Any:
    """A repeated enum field, to append numbers its stub type does not allow."""
    return container


def corrupt(mutate: Callable[[notice_pb2.Notice], object]) -> notice_pb2.Notice:
    notice = fixture_notice()
    mutate(notice)
    return notice


PEER_BAD: list[tuple[Callable[[notice_pb2.Notice], object], str]] = [
    (lambda n: n.ClearField("kind"), "notice kind is missing or unknown"),
    (lambda n: setattr(n, "kind", 99), "notice kind is missing or unknown"),
    (lambda n: n.ClearField("notice_id"), "notice notice_id is missing"),
    (lambda n: n.ClearField("sender_node_id"), "notice sender_node_id is missing"),
    (lambda n: n.ClearField("sop_id"), "notice sop_id is missing"),
    (lambda n: setattr(n, "created_at_ms", -5), "notice created_at_ms must not be before 1970"),
    (lambda n: setattr(n.case, "origin_country", "bra"), "notice case.origin_country must be"),
    (lambda n: setattr(n.case, "identified_at_ms", -1), "case.identified_at_ms must be a time"),
    (lambda n: n.victim.nationalities.append(""), "victim.nationalities[1] must be an ISO 3166"),
    (lambda n: setattr(n.victim, "sex", 42), "notice victim.sex must be one of: female, male"),
    (lambda n: raw(n.facts.means).append(0), "notice facts.means[2] must be one of: threat"),
    (lambda n: raw(n.facts.means).append(77), "notice facts.means[2] must be one of: threat"),
    (lambda n: raw(n.facts.acts).append(1), "notice facts.acts lists the same code more than once"),
    (
        lambda n: setattr(n.victim.identity_documents[0], "expires_on", "2031-5-9"),
        "notice victim.identity_documents[0].expires_on must be a real date",
    ),
    (
        lambda n: setattr(n.modus_operandi.route_legs[1], "to_country", "F"),
        "notice modus_operandi.route_legs[1].to_country must be an ISO 3166-1",
    ),
    (lambda n: n.amendment.SetInParent(), "notice amendment is only for notices of kind"),
    (
        lambda n: n.MergeFromString(b"\xf8\x07\x01"),  # field 127, unknown to us
        "notice has fields that are not in this node's notice.proto",
    ),
    (
        lambda n: n.victim.identity_documents[0].MergeFromString(b"\xa2\x06\x02hi"),  # field 100
        "notice has fields that are not in this node's notice.proto",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), PEER_BAD)
def test_validate_notice_names_the_field(
    mutate: Callable[[notice_pb2.Notice], object], message: str
) -> None:
    notice = corrupt(mutate)
    with pytest.raises(MalformedPayload) as info:
        nt.validate_notice(nt.decode_notice(notice.SerializeToString()))
    assert message in str(info.value)
    for secret in ("Exemplo", "Ana", "XX0000001", "2003-07-21"):
        assert secret not in str(info.value)


# --- present_fields, apply_view and routing -----------------------------------------------------


def test_present_fields_ignores_defaults_and_empty_lists() -> None:
    notice = notice_pb2.Notice(kind=common_pb2.NOTICE_KIND_MODUS_OPERANDI, sop_id="s")
    notice.case.reference = ""
    notice.victim.SetInParent()
    notice.facts.means.append(notice_pb2.MEANS_FRAUD)
    notice.handling.tlp = common_pb2.TLP_UNSPECIFIED
    assert nt.present_fields(notice) == {"facts.means"}


def test_apply_view_grants_groups_and_fields_and_keeps_top_level() -> None:
    notice = fixture_notice()
    view = nt.apply_view(notice, frozenset({"case", "victim.age_band", "handling.tlp"}))
    case_paths = {p for p in nt.present_fields(notice) if p.startswith("case.")}
    assert nt.present_fields(view) == case_paths | {"victim.age_band", "handling.tlp"}
    assert not view.HasField("facts")
    assert not view.HasField("modus_operandi")
    assert (view.notice_id, view.kind, view.sop_id) == (
        notice.notice_id,
        notice.kind,
        "para8-victim-notification",
    )
    assert b"Exemplo" not in view.SerializeToString()
    assert nt.apply_view(notice, frozenset()).SerializeToString().count(b"Exemplo") == 0
    assert nt.apply_view(notice, frozenset(nt.FIELD_GROUPS)) == notice
    assert nt.apply_view(notice, nt.FIELD_PATHS) == notice
    assert notice == fixture_notice()  # the original is untouched


def test_apply_view_drops_unknown_fields_and_rejects_unknown_grants() -> None:
    notice = fixture_notice()
    notice.victim.MergeFromString(b"\xa2\x06\x02hi")
    view = nt.apply_view(notice, frozenset({"victim"}))
    nt.validate_notice(view)
    with pytest.raises(ValueError, match=r"path: vicitm, victim\.name$"):
        nt.apply_view(notice, frozenset({"vicitm", "victim.name", "case"}))


def test_routing_of_a_bare_notice() -> None:
    notice = notice_pb2.Notice(kind=common_pb2.NOTICE_KIND_WITHDRAWAL)
    assert nt.routing(notice) == nt.Routing(
        kind="withdrawal", origin=None, transit=(), destination=None, identified_at_ms=None
    )
    with pytest.raises(ValueError):
        nt.routing(notice_pb2.Notice())
    with pytest.raises(ValueError):
        nt.Routing(kind="withdrawal", origin="fr", transit=(), destination=None, identified_at_ms=1)


def test_every_string_field_is_classified() -> None:
    """A new string field must be added to one of these sets (and to notice.py if it is coded)."""
    strings = {p for p, f in all_paths().items() if f.type == FieldDescriptor.TYPE_STRING}
    languages = {"victim.languages"}
    assert strings == COUNTRY_FIELDS | DATE_FIELDS | languages | FREE_TEXT_FIELDS
    assert {p for p in strings if "countr" in p or "nationalit" in p} == COUNTRY_FIELDS


@pytest.mark.parametrize("path", sorted(COUNTRY_FIELDS | DATE_FIELDS))
def test_every_country_and_date_field_is_checked(path: str) -> None:
    notice = fixture_notice()
    notice.kind = common_pb2.NOTICE_KIND_JOINT_INVESTIGATION_REQUEST
    notice.ClearField("victim")  # so that victim.* below is the only problem
    group, *rest = path.split(".")
    target: Message = getattr(notice, group)
    where = path
    if len(rest) == 2:
        items = getattr(target, rest[0])
        where = f"{group}.{rest[0]}[{len(items)}].{rest[1]}"
        target = items.add()
    field = target.DESCRIPTOR.fields_by_name[rest[-1]]
    if field.is_repeated:
        where += f"[{len(getattr(target, field.name))}]"
        getattr(target, field.name).append("Fr")
    else:
        setattr(target, field.name, "Fr")
    with pytest.raises(MalformedPayload) as info:
        nt.validate_notice(notice)
    assert str(info.value).startswith(f"notice {where} must be ")


# --- properties over random notices -------------------------------------------------------------

COUNTRIES = st.sampled_from(["FR", "BR", "HN", "ES", "DE", "NG", "TH", "GT"])
LANGUAGES = st.sampled_from(["pt", "es", "fr", "en", "ar"])
DATES = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
TEXT = st.text(min_size=1, max_size=12)


def scalars(path: str, field: Any) -> st.SearchStrategy[Any]:
    if field.enum_type is not None:
        return st.sampled_from([v.number for v in field.enum_type.values if v.number])
    if path in COUNTRY_FIELDS:
        return COUNTRIES
    if path in DATE_FIELDS:
        return DATES
    if field.name == "languages":
        return LANGUAGES
    if field.name == "identified_at_ms":
        return st.integers(1, 253402300799999)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_UINT32:
        return st.integers(1, 2**32 - 1)
    assert field.type == FieldDescriptor.TYPE_STRING, path
    return TEXT


def fill(draw: st.DrawFn, msg: Message, path: str) -> None:
    for field in msg.DESCRIPTOR.fields:
        if not draw(st.booleans()):
            continue
        where = f"{path}.{field.name}"
        if field.message_type is not None:
            for _ in range(draw(st.integers(1, 2))):
                fill(draw, getattr(msg, field.name).add(), where)
        elif field.is_repeated:
            unique = field.enum_type is not None
            items = draw(st.lists(scalars(where, field), min_size=1, max_size=3, unique=unique))
            getattr(msg, field.name).extend(items)
        else:
            setattr(msg, field.name, draw(scalars(where, field)))


@st.composite
def notices(draw: st.DrawFn) -> notice_pb2.Notice:
    kind = draw(st.sampled_from(sorted(nt.KINDS)))
    notice = notice_pb2.Notice(kind=nt.KINDS[kind], sop_id=draw(TEXT))
    if draw(st.booleans()):
        notice.sop_version = draw(st.integers(1, 2**32 - 1))
    for group in nt.FIELD_GROUPS:
        if kind in KIND_GROUPS.get(group, {kind}) and draw(st.booleans()):
            fill(draw, getattr(notice, group), group)
    if notice.facts.period_start > notice.facts.period_end != "":
        notice.facts.period_start, notice.facts.period_end = (
            notice.facts.period_end,
            notice.facts.period_start,
        )
    return notice


GRANTS = st.frozensets(st.sampled_from(sorted(nt.FIELD_PATHS | set(nt.FIELD_GROUPS))))
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(notice=notices(), allowed=GRANTS)
def test_apply_view_never_leaves_an_ungranted_field(
    notice: notice_pb2.Notice, allowed: frozenset[str]
) -> None:
    view = nt.apply_view(notice, allowed)
    granted = {p for p in nt.FIELD_PATHS if p in allowed or p.split(".")[0] in allowed}
    assert nt.present_fields(view) <= granted
    assert nt.present_fields(view) == nt.present_fields(notice) & granted
    for group in nt.FIELD_GROUPS:
        if view.HasField(group):
            assert any(p.startswith(f"{group}.") for p in nt.present_fields(view))
    assert (view.kind, view.sop_id, view.sop_version) == (
        notice.kind,
        notice.sop_id,
        notice.sop_version,
    )
    # What the receiver parses is what the sender checked.
    assert nt.present_fields(nt.decode_notice(view.SerializeToString())) == nt.present_fields(view)


@PROPERTY
@given(notice=notices())
def test_random_notices_round_trip_through_documents_and_bytes(
    notice: notice_pb2.Notice,
) -> None:
    doc = nt.notice_to_document(notice)
    assert nt.parse_notice_document(copy.deepcopy(doc), source=SOURCE) == notice
    assert nt.parse_notice_document(json.loads(json.dumps(doc)), source="n.json") == notice
    sent = with_node_fields(notice)
    nt.validate_notice(nt.decode_notice(sent.SerializeToString()))


@PROPERTY
@given(payload=st.binary(max_size=200))
def test_arbitrary_bytes_fail_only_with_malformed_payload(payload: bytes) -> None:
    try:
        notice = nt.decode_notice(payload)
        nt.validate_notice(notice)
    except MalformedPayload:
        return
    nt.notice_to_document(notice)
    nt.apply_view(notice, frozenset({"case"}))
