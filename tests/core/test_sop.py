"""The SOP engine: shipped files, every kind of bad file, planning, receiving, properties."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway._pb.gateway.v1 import common_pb2
from gateway.core import sop as sop_module
from gateway.core.sop import (
    CASE_ROLES,
    FIELD_GROUPS,
    FIELD_PATHS,
    HANDLING_CODES,
    KINDS,
    PERSONAL_GROUPS,
    REPLY_KINDS,
    ROLES,
    ROUTING_FIELDS,
    TLPS,
    DirectoryEntry,
    Plan,
    PlanError,
    PlanInput,
    Role,
    Rule,
    Sop,
    SopError,
    SopSet,
    SopSetError,
    allowed_view,
    check_fields,
    format_duration,
    is_granted,
    load_sops,
    parse_duration,
    parse_sop,
    plan,
    role_of,
)
from gateway.errors import ConfigError, FieldsNotAllowed, UnknownSop

ROOT = Path(__file__).resolve().parents[2]
SOPS_DIR = ROOT / "sops"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IDENTIFIED = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


def shipped_files() -> list[tuple[str, str]]:
    paths = sorted(SOPS_DIR.rglob("*.toml"))
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in paths]


@pytest.fixture(scope="module")
def shipped() -> SopSet:
    return load_sops(shipped_files())


def line_of(text: str, needle: str, *, after: str | None = None) -> int:
    """1-based number of the first line holding `needle` (after the line holding `after`)."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, line in enumerate(lines) if after in line) + 1
    for number in range(start, len(lines)):
        if needle in lines[number]:
            return number + 1
    raise AssertionError(f"{needle!r} not in text")


# -- vocabulary ------------------------------------------------------------------------------


def test_kinds_tlps_and_handling_codes_match_the_protobuf_enums() -> None:
    def names(enum: object, prefix: str) -> list[str]:
        values = enum.DESCRIPTOR.values  # type: ignore[attr-defined]
        return [v.name.removeprefix(prefix).lower() for v in values if v.number != 0]

    assert list(KINDS) == names(common_pb2.NoticeKind, "NOTICE_KIND_")
    assert list(TLPS) == names(common_pb2.Tlp, "TLP_")
    assert list(HANDLING_CODES) == names(common_pb2.HandlingCode, "HANDLING_CODE_")


def test_field_groups_match_the_notice_protobuf() -> None:
    notice_pb2 = pytest.importorskip("gateway._pb.gateway.v1.notice_pb2")
    groups = {
        field.name: tuple(sub.name for sub in field.message_type.fields)
        for field in notice_pb2.Notice.DESCRIPTOR.fields
        if field.message_type is not None
    }
    assert list(groups.items()) == list(FIELD_GROUPS.items())


def test_field_vocabulary_is_consistent() -> None:
    assert len(FIELD_PATHS) == len(set(FIELD_PATHS)) == sum(map(len, FIELD_GROUPS.values()))
    assert set(PERSONAL_GROUPS) <= set(FIELD_GROUPS)
    assert "victim.consent_to_share" in FIELD_PATHS
    assert "investigation.participating_countries" in FIELD_PATHS
    assert set(ROUTING_FIELDS) == set(CASE_ROLES)
    assert set(ROUTING_FIELDS.values()) <= set(FIELD_PATHS)


def test_public_api_is_pinned() -> None:
    for name in sop_module.__all__:
        assert hasattr(sop_module, name), name
    for name in ("parse_sop", "load_sops", "plan", "role_of", "allowed_view", "check_fields"):
        assert name in sop_module.__all__


def test_is_granted_reads_groups_and_paths() -> None:
    assert is_granted("victim.sex", {"victim"})
    assert is_granted("victim.sex", {"victim.sex"})
    assert not is_granted("victim.family_name", {"victim.sex", "case"})
    assert not is_granted("case.reference", {"caseX", "victim.sex"})
    assert not is_granted("case.reference", [])


# -- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("72h", timedelta(hours=72)),
        ("14d", timedelta(days=14)),
        ("2w", timedelta(weeks=2)),
        ("1826d", timedelta(days=1826)),
        ("P3D", timedelta(days=3)),
        ("PT72H", timedelta(hours=72)),
        ("P1DT6H", timedelta(days=1, hours=6)),
        ("PT30M", timedelta(minutes=30)),
        ("p2w", timedelta(weeks=2)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "72", "h", "3 days", "72 h", "P", "PT", "P1Y", "P2M", "0h", "-1d", "1.5h"]
)
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|zero"):
        parse_duration(text)


@given(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=99_999)))
def test_format_duration_round_trips(value: timedelta) -> None:
    value = timedelta(seconds=int(value.total_seconds()))
    assert parse_duration(format_duration(value)) == value


# -- shipped files ---------------------------------------------------------------------------


def test_every_shipped_sop_loads(shipped: SopSet) -> None:
    assert shipped.ids() == (
        "bilateral-fr-br",
        "para10-modus-operandi",
        "para8-victim-notification",
        "regional-ca-strict-retention",
    )
    sources = [source for source, _ in shipped_files()]
    assert "sops/examples/bilateral-fr-br.toml" in sources
    assert "sops/examples/regional-strict-retention.toml" in sources
    for sop in shipped:
        assert sop.legal_basis and sop.title
        for rule in sop.rules:
            parties_view = rule.granted("parties")
            assert not any(e.partition(".")[0] in PERSONAL_GROUPS for e in parties_view)


def test_para8_victim_identification_rule(shipped: SopSet) -> None:
    sop = shipped.latest("para8-victim-notification")
    assert sop.any_party and sop.effective_from == date(2021, 1, 1) and sop.expires_on is None
    assert any("para. 8" in basis for basis in sop.legal_basis)
    assert any("art. 6(1)" in basis for basis in sop.legal_basis)
    rule = sop.rule_for("victim_identification")
    assert rule is not None
    assert rule.to == ("origin", "transit", "destination")
    assert rule.approvals == 1
    assert rule.dispatch_within == timedelta(hours=72)
    assert rule.acknowledge_within == timedelta(hours=48)
    assert rule.escalate_to == ("approver",)
    assert rule.retention == timedelta(days=1826)
    assert (rule.tlp, rule.handling_code) == ("amber", "h2")
    assert "case.identified_at_ms" in rule.required
    for role in ("origin", "destination"):
        assert rule.granted(role) == {"case", "victim", "facts", "modus_operandi", "handling"}
    transit = rule.granted("transit")
    victim_seen = {p for p in FIELD_PATHS if p.startswith("victim.") and is_granted(p, transit)}
    assert victim_seen == set()  # a transit state gets no victim field at all
    for group in ("case", "facts", "modus_operandi", "handling"):
        assert group in transit
    assert set(sop.kinds) == {
        "victim_identification",
        "acknowledgement",
        "correction",
        "withdrawal",
    }


def test_para8_follow_ups_never_widen_a_roles_view(shipped: SopSet) -> None:
    sop = shipped.latest("para8-victim-notification")
    first = sop.rule_for("victim_identification")
    assert first is not None
    victim = [p for p in FIELD_PATHS if p.startswith("victim.")]
    for kind in ("correction", "withdrawal"):
        rule = sop.rule_for(kind)
        assert rule is not None and rule.to == first.to
        for role in rule.to:
            widened = [
                p
                for p in victim
                if is_granted(p, rule.granted(role)) and not is_granted(p, first.granted(role))
            ]
            assert widened == [], (kind, role)
    # An acknowledgement goes back to the sender of the notice alone, without personal data.
    ack = sop.rule_for("acknowledgement")
    assert ack is not None and ack.to == ("sender",)
    assert not [p for p in victim if is_granted(p, ack.granted("sender"))]
    # A transit state gets no victim field at all, in any rule of this procedure.
    for kind in sop.kinds:
        rule = sop.rule_for(kind)
        assert rule is not None
        if kind == "acknowledgement":
            continue
        assert "transit" in rule.to
        seen = [p for p in victim if is_granted(p, rule.granted("transit"))]
        assert seen == [], kind


def test_para10_goes_to_every_party_without_personal_data(shipped: SopSet) -> None:
    sop = shipped.latest("para10-modus-operandi")
    assert sop.parties == ("*",)
    rule = sop.rule_for("modus_operandi")
    assert rule is not None and rule.to == ("parties",)
    assert rule.granted("parties") == {"modus_operandi", "facts", "handling"}
    assert any("para. 10" in basis for basis in sop.legal_basis)


def test_examples_bilateral_and_regional(shipped: SopSet) -> None:
    bilateral = shipped.latest("bilateral-fr-br")
    assert bilateral.parties == ("fr-ncp", "br-ncp")
    assert bilateral.is_party("br-ncp") and not bilateral.is_party("co-ncp")
    assert not bilateral.in_force(date(2030, 1, 1)) and bilateral.in_force(date(2029, 12, 31))
    regional = shipped.latest("regional-ca-strict-retention")
    assert len(regional.parties) >= 5
    for rule in regional.rules:
        assert rule.retention == timedelta(days=365)


def test_shipped_files_are_commented_for_readers() -> None:
    for source, text in shipped_files():
        comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
        assert len(comments) >= 8, source
        assert "legal_basis" in text


# -- bad files -------------------------------------------------------------------------------

BASE = """\
[sop]
id = "test-sop"
version = 1
title = "Test procedure"
legal_basis = ["Trafficking in Persons Protocol, art. 10(1)"]
parties = ["*"]
effective_from = 2024-01-01

[[rule]]
kind = "victim_identification"
to = ["origin", "transit", "destination"]
approvals = 1
dispatch_within = "72h"
acknowledge_within = "48h"
escalate_to = ["approver"]
retention = "1826d"
tlp = "amber"
handling_code = "h2"
required = ["case.reference", "case.identified_at_ms"]

[rule.fields]
origin = ["case", "victim", "facts", "handling"]
transit = [
    "case",
    "facts",
    "victim.age_band",
]
destination = ["case", "victim", "facts", "handling"]

[[rule]]
kind = "modus_operandi"
to = ["parties"]
approvals = 0
retention = "365d"
tlp = "green"
handling_code = "h0"

[rule.fields]
parties = ["modus_operandi", "facts"]
"""
RULE2 = 'kind = "modus_operandi"'


def edit(old: str, new: str, *, after: str | None = None) -> Callable[[str], str]:
    """A change to BASE: replace the first `old` (after the line holding `after`)."""

    def apply(text: str) -> str:
        start = 0 if after is None else text.index(after)
        at = text.index(old, start)
        return text[:at] + new + text[at + len(old) :]

    return apply


def test_base_is_valid() -> None:
    sop = parse_sop(BASE, source="base.toml")
    assert sop.id == "test-sop" and sop.kinds == ("victim_identification", "modus_operandi")


# (name, change, where the error points (the first line holding this text, or a (text, after)
# pair for the first one after the line holding `after`; None: no line), field, detail)
Where = str | tuple[str, str] | None
BAD: list[tuple[str, Callable[[str], str], Where, str, str]] = [
    (
        "unknown sop key",
        edit("version = 1\n", 'version = 1\nauthor = "me"\n'),
        "author",
        "[sop] author",
        "unknown key 'author'; allowed: id, version, title",
    ),
    (
        "unknown rule key",
        edit("approvals = 0\n", 'approvals = 0\ncolour = "red"\n'),
        "colour",
        "[[rule]] #2 (modus_operandi) colour",
        "unknown key 'colour'; allowed: kind, to, approvals",
    ),
    (
        "unknown top-level table",
        lambda t: t + "\n[extras]\nx = 1\n",
        "[extras]",
        "extras",
        "allowed: [sop], [[rule]]",
    ),
    (
        "unknown kind",
        edit('"modus_operandi"\nto', '"modus_operandy"\nto'),
        "modus_operandy",
        "[[rule]] #2 kind",
        "unknown kind 'modus_operandy'; allowed: victim_identification, modus_operandi",
    ),
    (
        "unknown role in to",
        edit('"transit", "destination"]', '"transit", "destiny"]'),
        "destiny",
        "[[rule]] #1 (victim_identification) to",
        "unknown role 'destiny'; allowed: origin, transit, destination, parties, sender",
    ),
    (
        "unknown role in fields",
        edit("destination = [", 'senders = ["case"]\ndestination = ['),
        "senders",
        "[[rule]] #1 (victim_identification) fields.senders",
        "unknown role 'senders'; allowed: origin, transit, destination, parties, sender",
    ),
    (
        "unknown field group",
        edit('origin = ["case", "victim"', 'origin = ["case", "victims"'),
        '"victims"',
        "[[rule]] #1 (victim_identification) fields.origin",
        "unknown field group or field 'victims'; write a group (case, victim, facts",
    ),
    (
        "unknown field inside a multi-line list",
        edit('"victim.age_band",', '"victim.passport",'),
        '"victim.passport"',
        "[[rule]] #1 (victim_identification) fields.transit",
        "unknown field 'victim.passport'; fields of victim: family_name, given_names",
    ),
    (
        "unknown required path",
        edit('"case.reference", "case.id', '"case.ref", "case.id'),
        '"case.ref"',
        "[[rule]] #1 (victim_identification) required",
        "unknown field 'case.ref'; fields of case: reference, origin_country",
    ),
    (
        "group in required",
        edit('required = ["case.reference"', 'required = ["victim", "case.reference"'),
        "required",
        "[[rule]] #1 (victim_identification) required",
        "'victim' is a group; name the fields",
    ),
    (
        "deadline that does not parse",
        edit('"72h"', '"3 days"'),
        "dispatch_within",
        "[[rule]] #1 (victim_identification) dispatch_within",
        '\'3 days\' is not a duration; write a whole number and a unit: "30m", "72h"',
    ),
    (
        "retention in years",
        edit('"1826d"', '"P5Y"'),
        "retention",
        "[[rule]] #1 (victim_identification) retention",
        "years and months have no fixed length",
    ),
    (
        "zero deadline",
        edit('"48h"', '"0h"'),
        "acknowledge_within",
        "[[rule]] #1 (victim_identification) acknowledge_within",
        "is zero",
    ),
    (
        "duration not in quotes",
        edit('retention = "365d"', "retention = 365"),
        "retention = 365",
        "[[rule]] #2 (modus_operandi) retention",
        "write the duration in quotes",
    ),
    (
        "victim group to parties",
        edit('parties = ["modus_operandi", "facts"]', 'parties = ["modus_operandi", "victim"]'),
        'parties = ["modus_operandi", "victim"]',
        "[[rule]] #2 (modus_operandi) fields.parties",
        "grants personal data (victim) to every party; personal data may go only to origin,"
        " transit or destination. Allowed for parties: case, facts",
    ),
    (
        "victim field to parties",
        edit(
            'parties = ["modus_operandi", "facts"]',
            'parties = [\n    "modus_operandi",\n    "victim.age_band",\n]',
        ),
        ('"victim.age_band"', RULE2),
        "[[rule]] #2 (modus_operandi) fields.parties",
        "grants personal data (victim.age_band) to every party",
    ),
    (
        "role in fields not in to",
        edit("destination = [", 'parties = ["facts"]\ndestination = ['),
        'parties = ["facts"]',
        "[[rule]] #1 (victim_identification) fields.parties",
        "role 'parties' is given fields but is not in `to` (origin, transit, destination)",
    ),
    (
        "role in to without fields",
        edit('destination = ["case", "victim", "facts", "handling"]\n', ""),
        "[rule.fields]",
        "[[rule]] #1 (victim_identification) fields",
        "role 'destination' is in `to` but has no fields",
    ),
    (
        "role with an empty view",
        edit('destination = ["case", "victim", "facts", "handling"]', "destination = []"),
        "destination = []",
        "[[rule]] #1 (victim_identification) fields.destination",
        "is given no fields",
    ),
    (
        "role without the routing countries",
        edit('destination = ["case", "victim"', 'destination = ["case.reference", "victim"'),
        "destination = [",
        "[[rule]] #1 (victim_identification) fields.destination",
        "role 'destination' must see case.origin_country, case.transit_countries,"
        " case.destination_country",
    ),
    (
        "missing sop key",
        edit('title = "Test procedure"\n', ""),
        "[sop]",
        "[sop] title",
        "missing required key 'title'",
    ),
    (
        "missing rule key",
        edit('tlp = "amber"\n', ""),
        "[[rule]]",  # a missing key: the error points at its table
        "[[rule]] #1 (victim_identification) tlp",
        "missing required key 'tlp'",
    ),
    (
        "missing [sop]",
        edit("[sop]\n", "[spo]\n"),
        "[spo]",
        "spo",
        "unknown table or key 'spo'",
    ),
    (
        "no rules",
        lambda t: t[: t.index("[[rule]]")],
        None,
        "rule",
        "an SOP needs at least one [[rule]]",
    ),
    (
        "rule with single brackets",
        lambda t: t[: t.index("[[rule]]")] + '[rule]\nkind = "modus_operandi"\n',
        "[rule]",
        "rule",
        "write each rule as [[rule]] (double brackets)",
    ),
    (
        "TOML syntax error",
        edit("approvals = 1", "approvals = = 1"),
        "approvals = = 1",
        "",
        "TOML syntax error at column 13",
    ),
    (
        "number as text",
        edit("approvals = 1", 'approvals = "one"'),
        'approvals = "one"',
        "[[rule]] #1 (victim_identification) approvals",
        "write a whole number, not a text",
    ),
    (
        "negative approvals",
        edit("approvals = 1", "approvals = -1"),
        "approvals = -1",
        "[[rule]] #1 (victim_identification) approvals",
        "-1 is not a number of approvals; write a whole number >= 0",
    ),
    (
        "text instead of list",
        edit('to = ["parties"]', 'to = "parties"'),
        'to = "parties"',
        "[[rule]] #2 (modus_operandi) to",
        'write a list in brackets, e.g. ["a", "b"], not a text',
    ),
    (
        "version zero",
        edit("version = 1", "version = 0"),
        "version = 0",
        "[sop] version",
        "0 is not a version; write a whole number >= 1",
    ),
    (
        "bad id",
        edit('id = "test-sop"', 'id = "Test SOP!"'),
        'id = "Test SOP!"',
        "[sop] id",
        "is not an SOP id",
    ),
    (
        "date that does not parse",
        edit("effective_from = 2024-01-01", 'effective_from = "soon"'),
        "effective_from",
        "[sop] effective_from",
        "'soon' is not a date; write e.g. 2021-01-01",
    ),
    (
        "date with a time",
        edit("effective_from = 2024-01-01", "effective_from = 2024-01-01T10:00:00Z"),
        "effective_from",
        "[sop] effective_from",
        "write a date without a time",
    ),
    (
        "expiry before start",
        edit(
            "effective_from = 2024-01-01\n",
            "effective_from = 2024-01-01\nexpires_on = 2023-01-01\n",
        ),
        "expires_on",
        "[sop] expires_on",
        "expires on 2023-01-01, not after effective_from 2024-01-01",
    ),
    (
        "star with node ids",
        edit('parties = ["*"]', 'parties = ["*", "fr-ncp"]'),
        'parties = ["*", "fr-ncp"]',
        "[sop] parties",
        '"*" means any node and cannot be combined with node ids',
    ),
    (
        "no parties",
        edit('parties = ["*"]', "parties = []"),
        "parties = []",
        "[sop] parties",
        "the list must not be empty",
    ),
    (
        "party listed twice",
        edit('parties = ["*"]', 'parties = ["fr-ncp", "br-ncp", "fr-ncp"]'),
        "parties =",
        "[sop] parties",
        "party 'fr-ncp' is listed twice",
    ),
    (
        "two rules for one kind",
        edit(RULE2, 'kind = "victim_identification"'),
        ('kind = "victim_identification"', 'destination = ["case"'),
        "[[rule]] #2 (victim_identification) kind",
        "kind 'victim_identification' already has a rule (#1); one rule per kind",
    ),
    (
        "unknown local role",
        edit('escalate_to = ["approver"]', 'escalate_to = ["boss"]'),
        "escalate_to",
        "[[rule]] #1 (victim_identification) escalate_to",
        "unknown local role 'boss'; allowed: drafter, approver, receiver, auditor, admin",
    ),
    (
        "deadline without escalation",
        edit('escalate_to = ["approver"]\n', ""),
        "[[rule]]",
        "[[rule]] #1 (victim_identification) escalate_to",
        "a deadline is set but nobody is told when it passes",
    ),
    (
        "escalation without deadline",
        edit("approvals = 0\n", 'approvals = 0\nescalate_to = ["admin"]\n'),
        'escalate_to = ["admin"]',
        "[[rule]] #2 (modus_operandi) escalate_to",
        "escalate_to needs a deadline",
    ),
    (
        "dispatch deadline without identification time",
        edit(
            'required = ["case.reference", "case.identified_at_ms"]',
            'required = ["case.reference"]',
        ),
        "required",
        "[[rule]] #1 (victim_identification) required",
        'add "case.identified_at_ms" to required',
    ),
    (
        "personal data under TLP:GREEN",
        edit('tlp = "amber"', 'tlp = "green"'),
        'tlp = "green"',
        "[[rule]] #1 (victim_identification) tlp",
        "TLP 'green' allows community-wide sharing, but this rule grants personal data",
    ),
    (
        "unknown TLP",
        edit('tlp = "green"', 'tlp = "orange"'),
        'tlp = "orange"',
        "[[rule]] #2 (modus_operandi) tlp",
        "unknown TLP level 'orange'; allowed: clear, green, amber, amber_strict, red",
    ),
    (
        "unknown handling code",
        edit('handling_code = "h2"', 'handling_code = "h9"'),
        'handling_code = "h9"',
        "[[rule]] #1 (victim_identification) handling_code",
        "unknown handling code 'h9'; allowed: h0, h1, h2, h3",
    ),
    (
        "role twice in to",
        edit('to = ["parties"]', 'to = ["parties", "parties"]'),
        'to = ["parties", "parties"]',
        "[[rule]] #2 (modus_operandi) to",
        "role 'parties' is listed twice",
    ),
]


@pytest.mark.parametrize(
    ("change", "line_text", "field", "detail"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_sop_errors_name_file_line_field_and_what_is_allowed(
    change: Callable[[str], str], line_text: Where, field: str, detail: str
) -> None:
    text = change(BASE)
    assert text != BASE
    with pytest.raises(ConfigError) as caught:
        parse_sop(text, source="sops/bad.toml")
    error = caught.value
    assert isinstance(error, SopError)
    message = str(error)
    if line_text is None:
        assert message.startswith("sops/bad.toml: ")
        assert error.line is None
    else:
        needle, after = line_text if isinstance(line_text, tuple) else (line_text, None)
        line = line_of(text, needle, after=after)
        assert message.startswith(f"sops/bad.toml:{line}: "), message
        assert error.line == line
    assert error.source == "sops/bad.toml"
    assert f": {field}: " in message or (not field and "syntax" in message), message
    assert error.field == field or not field
    assert detail in message, message
    assert "Traceback" not in message


def test_error_points_at_the_offending_rule_not_the_first() -> None:
    text = edit('handling_code = "h0"', 'handling_code = "hx"')(BASE)
    with pytest.raises(SopError) as caught:
        parse_sop(text, source="x.toml")
    assert caught.value.line == line_of(text, 'handling_code = "hx"')
    assert caught.value.line > line_of(text, RULE2)


def test_shipped_file_error_points_at_its_line() -> None:
    source, text = next(
        f for f in shipped_files() if f[0].endswith("para8-victim-notification.toml")
    )
    origin = 'origin = ["case", "victim", "facts", "modus_operandi", "handling"]\n'
    broken = text.replace(origin, origin.replace('"handling"]', '"handling", "victim.name"]'), 1)
    assert broken != text
    with pytest.raises(SopError) as caught:
        parse_sop(broken, source=source)
    assert str(caught.value).startswith(f"{source}:{line_of(broken, 'victim.name')}: ")
    assert "fields.origin" in str(caught.value)


def test_model_rejects_invalid_values_built_in_code() -> None:
    rule = parse_sop(BASE, source="b.toml").rules[0]
    with pytest.raises(SopError, match="every party"):
        fields: dict[Role, frozenset[str]] = {
            "origin": frozenset({"case"}),
            "parties": frozenset({"victim"}),
        }
        replace(rule, to=("origin", "parties"), fields=fields)
    with pytest.raises(SopError, match="unknown notice kind"):
        replace(rule, kind="gossip")  # type: ignore[arg-type]
    with pytest.raises(SopError, match="not a positive duration"):
        replace(rule, retention=timedelta(0))
    sop = parse_sop(BASE, source="b.toml")
    with pytest.raises(SopError, match="at least one"):
        replace(sop, rules=())


def test_rule_fields_are_read_only_and_rules_hash() -> None:
    rule = parse_sop(BASE, source="b.toml").rules[0]
    with pytest.raises(TypeError):
        rule.fields["parties"] = frozenset({"victim"})  # type: ignore[index]
    assert hash(rule) == hash(parse_sop(BASE, source="c.toml").rules[0])
    assert rule == parse_sop(BASE, source="c.toml").rules[0]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_gives_an_sop_or_a_config_error(text: str) -> None:
    try:
        parse_sop(text, source="fuzz.toml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml")


@settings(max_examples=200)
@given(st.data())
def test_damaged_files_give_an_sop_or_a_located_config_error(data: st.DataObject) -> None:
    lines = BASE.splitlines(keepends=True)
    drop = data.draw(st.sets(st.integers(0, len(lines) - 1), max_size=3))
    swap = data.draw(st.sampled_from(["", '"x"', "1", "[]", "2024-01-01", '["victim"]', "{}"]))
    kept = [line for i, line in enumerate(lines) if i not in drop]
    if swap and kept:
        target = data.draw(st.integers(0, len(kept) - 1))
        key, eq, _ = kept[target].partition("=")
        if eq:
            kept[target] = f"{key}= {swap}\n"
    try:
        parse_sop("".join(kept), source="damaged.toml")
    except ConfigError as exc:
        assert str(exc).startswith("damaged.toml")


# -- load_sops and SopSet --------------------------------------------------------------------


def test_duplicate_id_and_version_names_both_files() -> None:
    with pytest.raises(SopError) as caught:
        load_sops([("a/first.toml", BASE), ("b/second.toml", BASE)])
    message = str(caught.value)
    assert message.startswith(f"b/second.toml:{line_of(BASE, 'version = 1')}: [sop] version: ")
    assert "a/first.toml" in message and "'test-sop' version 1" in message


def test_problems_in_several_files_are_reported_together() -> None:
    bad1 = edit('tlp = "green"', 'tlp = "pink"')(BASE)
    bad2 = edit("version = 1", "version = 2\nowner = 1")(BASE)
    with pytest.raises(SopSetError) as caught:
        load_sops([("one.toml", bad1), ("ok.toml", BASE), ("two.toml", bad2)])
    assert isinstance(caught.value, ConfigError)
    assert [e.source for e in caught.value.errors] == ["one.toml", "two.toml"]
    assert "one.toml:" in str(caught.value) and "two.toml:" in str(caught.value)


def test_sopset_lookups(shipped: SopSet) -> None:
    v2 = edit("version = 1", "version = 2")(BASE)
    sops = load_sops([("v2.toml", v2), ("v1.toml", BASE)])
    assert [s.version for s in sops.versions("test-sop")] == [1, 2]
    assert sops.latest("test-sop").version == 2
    assert sops.get("test-sop", 1).version == 1
    assert ("test-sop", 2) in sops and len(sops) == 2
    with pytest.raises(UnknownSop, match="versions held: v1, v2"):
        sops.get("test-sop", 3)
    with pytest.raises(UnknownSop):
        sops.latest("nope")
    kinds = {s.id for s in shipped.for_kind("victim_identification")}
    assert kinds == {"para8-victim-notification", "bilateral-fr-br", "regional-ca-strict-retention"}
    assert [s.id for s in shipped.for_kind("modus_operandi")] == ["para10-modus-operandi"]
    assert load_sops([]) == SopSet()


# -- plan ------------------------------------------------------------------------------------

DIRECTORY = (
    DirectoryEntry(node_id="fr-ncp", country="FR"),
    DirectoryEntry(node_id="br-ncp", country="BR"),
    DirectoryEntry(node_id="co-ncp", country="CO"),
    DirectoryEntry(node_id="pa-ncp", country="PA"),
    DirectoryEntry(node_id="es-ncp", country="ES"),
    DirectoryEntry(node_id="gt-ncp", country="GT"),
    DirectoryEntry(node_id="hn-ncp", country="HN"),
    DirectoryEntry(node_id="de-old", country="DE", revoked=True),
)
VICTIM_NOTICE_FIELDS = frozenset(
    {
        "case.reference",
        "case.identified_at_ms",
        "case.identifying_authority",
        "case.identified_place",
        "victim.family_name",
        "victim.given_names",
        "victim.date_of_birth",
        "victim.age_band",
        "victim.sex",
        "victim.identity_documents",
        "victim.consent_to_share",
        "facts.acts",
        "facts.means",
        "facts.purposes",
        "modus_operandi.route_legs",
        "handling.tlp",
        "handling.handling_code",
    }
)


def notice(
    *,
    kind: str = "victim_identification",
    sop_id: str | None = "para8-victim-notification",
    origin: str | None = "BR",
    transit: tuple[str, ...] = ("CO", "PA"),
    destination: str | None = "FR",
    identified_at: datetime | None = IDENTIFIED,
    fields: frozenset[str] = VICTIM_NOTICE_FIELDS,
) -> PlanInput:
    """A PlanInput whose routing fields agree with its countries."""
    routing = {
        "case.origin_country": origin is not None,
        "case.transit_countries": bool(transit),
        "case.destination_country": destination is not None,
        "case.identified_at_ms": identified_at is not None,
    }
    present = (fields - routing.keys()) | {path for path, on in routing.items() if on}
    return PlanInput(
        kind=kind,  # type: ignore[arg-type]
        sop_id=sop_id,
        origin=origin,
        transit=transit,
        destination=destination,
        identified_at=identified_at,
        present_fields=present,
    )


def reasons_of(
    item: PlanInput,
    sops: SopSet,
    directory: tuple[DirectoryEntry, ...] = DIRECTORY,
    self_node: str = "fr-ncp",
    now: datetime = NOW,
) -> tuple[str, ...]:
    with pytest.raises(PlanError) as caught:
        plan(item, sops, directory, self_node, now)
    assert isinstance(caught.value, ConfigError)
    for reason in caught.value.reasons:
        assert reason in str(caught.value)
    return caught.value.reasons


def test_plan_routes_to_the_case_roles(shipped: SopSet) -> None:
    result = plan(notice(), shipped, DIRECTORY, "fr-ncp", NOW)
    assert [(r.node_id, r.country, r.roles) for r in result.recipients] == [
        ("br-ncp", "BR", ("origin",)),
        ("co-ncp", "CO", ("transit",)),
        ("pa-ncp", "PA", ("transit",)),
    ]
    assert (result.sop_id, result.sop_version, result.kind) == (
        "para8-victim-notification",
        1,
        "victim_identification",
    )
    assert result.approvals_required == 1
    assert result.dispatch_deadline == IDENTIFIED + timedelta(hours=72)
    assert result.ack_deadline == NOW + timedelta(hours=48)
    assert result.retention == timedelta(days=1826)
    assert (result.tlp, result.handling_code) == ("amber", "h2")
    assert result.rule == shipped.latest("para8-victim-notification").rule_for(
        "victim_identification"
    )


def test_plan_minimises_each_roles_view(shipped: SopSet) -> None:
    item = notice()
    result = plan(item, shipped, DIRECTORY, "fr-ncp", NOW)
    views = {r.node_id: r.view for r in result.recipients}
    assert views["br-ncp"] == item.present_fields  # the origin sees everything present
    transit = views["co-ncp"]
    assert transit == views["pa-ncp"]
    assert {p for p in transit if p.startswith("victim.")} == set()  # no victim field at all
    assert "victim.age_band" not in transit and "victim.sex" not in transit
    assert "victim.family_name" not in transit and "victim.identity_documents" not in transit
    assert {"facts.means", "modus_operandi.route_legs", "case.transit_countries"} <= transit
    for view in views.values():
        assert view <= item.present_fields


def test_a_node_in_two_roles_gets_one_entry_with_the_union_of_views() -> None:
    rule = Rule(
        kind="victim_identification",
        to=("origin", "transit", "destination"),
        approvals=0,
        retention=timedelta(days=30),
        tlp="amber",
        handling_code="h0",
        fields={
            "origin": frozenset({"case", "victim.family_name"}),
            "transit": frozenset({"case", "modus_operandi"}),
            "destination": frozenset({"case"}),
        },
    )
    sop = Sop(
        id="union",
        version=1,
        title="t",
        legal_basis=("b",),
        parties=("*",),
        effective_from=date(2020, 1, 1),
        rules=(rule,),
    )
    fields = frozenset(
        {"case.reference", "victim.family_name", "victim.sex", "modus_operandi.route_legs"}
    )
    item = notice(sop_id="union", origin="CO", transit=("PA", "CO"), fields=fields)
    result = plan(item, SopSet(sops=(sop,)), DIRECTORY, "fr-ncp", NOW)
    co = next(r for r in result.recipients if r.node_id == "co-ncp")
    assert co.roles == ("origin", "transit")
    assert {"victim.family_name", "modus_operandi.route_legs", "case.reference"} <= co.view
    assert "victim.sex" not in co.view
    pa = next(r for r in result.recipients if r.node_id == "pa-ncp")
    assert pa.roles == ("transit",) and "victim.family_name" not in pa.view
    assert [r.node_id for r in result.recipients] == ["co-ncp", "pa-ncp"]


def test_other_nodes_of_our_own_country_receive_but_we_do_not(shipped: SopSet) -> None:
    directory = (*DIRECTORY, DirectoryEntry(node_id="fr-police", country="FR"))
    result = plan(notice(), shipped, directory, "fr-ncp", NOW)
    assert "fr-ncp" not in [r.node_id for r in result.recipients]
    police = next(r for r in result.recipients if r.node_id == "fr-police")
    assert police.roles == ("destination",)


def test_revoked_nodes_are_left_out(shipped: SopSet) -> None:
    directory = (*DIRECTORY, DirectoryEntry(node_id="br-old", country="BR", revoked=True))
    result = plan(notice(), shipped, directory, "fr-ncp", NOW)
    assert "br-old" not in [r.node_id for r in result.recipients]
    only_revoked = (*DIRECTORY, DirectoryEntry(node_id="mx-old", country="MX", revoked=True))
    reasons = reasons_of(notice(transit=("MX",)), shipped, only_revoked)
    assert reasons == ("every node of the transit country MX is revoked (mx-old)",)


def test_a_role_country_without_a_node_is_a_reason(shipped: SopSet) -> None:
    reasons = reasons_of(notice(origin="NG"), shipped)
    assert reasons == ("no node in the directory for the origin country NG",)


def test_expired_and_not_yet_effective_sops(shipped: SopSet) -> None:
    item = notice(sop_id="bilateral-fr-br", transit=())
    assert plan(item, shipped, DIRECTORY, "fr-ncp", NOW).recipients[0].node_id == "br-ncp"
    later = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
    assert reasons_of(item, shipped, now=later) == (
        "SOP bilateral-fr-br v1 has expired: it no longer applies from 2030-01-01"
        " (today is 2030-01-01, UTC)",
    )
    regional = notice(
        sop_id="regional-ca-strict-retention", origin="GT", transit=(), destination="HN"
    )
    earlier = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    assert reasons_of(regional, shipped, self_node="pa-ncp", now=earlier) == (
        "SOP regional-ca-strict-retention v1 is not in force yet: effective from 2026-01-01"
        " (today is 2025-12-31, UTC)",
    )


def test_the_highest_version_in_force_applies() -> None:
    v2 = edit("version = 1", "version = 2")(
        edit("effective_from = 2024-01-01", "effective_from = 2027-01-01")(BASE)
    )
    sops = load_sops([("v1.toml", BASE), ("v2.toml", v2)])
    item = notice(sop_id="test-sop", fields=frozenset({"case.reference"}))
    assert plan(item, sops, DIRECTORY, "fr-ncp", NOW).sop_version == 1
    assert plan(item, sops, DIRECTORY, "fr-ncp", datetime(2027, 1, 1, tzinfo=UTC)).sop_version == 2


def test_missing_required_fields_are_each_a_reason(shipped: SopSet) -> None:
    fields = VICTIM_NOTICE_FIELDS - {"facts.means", "case.reference"}
    assert reasons_of(notice(fields=fields), shipped) == (
        "missing required field case.reference",
        "missing required field facts.means",
    )
    reasons = reasons_of(notice(identified_at=None), shipped)
    assert reasons == ("missing required field case.identified_at_ms",)


def test_every_reason_is_reported_at_once(shipped: SopSet) -> None:
    item = notice(
        sop_id="bilateral-fr-br",
        origin="CO",
        destination="NG",
        fields=VICTIM_NOTICE_FIELDS - {"facts.acts", "victim.consent_to_share"},
    )
    directory = (*DIRECTORY, DirectoryEntry(node_id="co-ncp", country="CO"))
    reasons = reasons_of(
        item, shipped, directory, self_node="es-ncp", now=datetime(2031, 5, 1, tzinfo=UTC)
    )
    assert reasons == (
        "SOP bilateral-fr-br v1 has expired: it no longer applies from 2030-01-01"
        " (today is 2031-05-01, UTC)",
        "this node (es-ncp) is not a party to SOP bilateral-fr-br v1 (parties: fr-ncp, br-ncp)",
        "missing required field facts.acts",
        "missing required field victim.consent_to_share",
        "the directory lists node co-ncp more than once",
        "no node in the directory for the origin country CO",
        "no node in the directory for the destination country NG",
    )


def test_sop_choice_when_no_id_is_given(shipped: SopSet) -> None:
    # From Colombia only para8 applies: it is not a party to the two other SOPs for this kind.
    item = notice(sop_id=None, origin="CO", transit=(), destination="FR")
    assert plan(item, shipped, DIRECTORY, "co-ncp", NOW).sop_id == "para8-victim-notification"
    # France is a party to para8 and to the bilateral one: the officer must choose.
    assert reasons_of(notice(sop_id=None), shipped) == (
        "several SOPs cover victim_identification notices (bilateral-fr-br,"
        " para8-victim-notification); name the one this notice is sent under",
    )
    only_bilateral = SopSet(sops=(shipped.latest("bilateral-fr-br"),))
    assert reasons_of(notice(sop_id=None), only_bilateral, self_node="es-ncp") == (
        "this node (es-ncp) is not a party to SOP bilateral-fr-br v1 (parties: fr-ncp, br-ncp)",
    )
    regional_and_bilateral = SopSet(
        sops=(shipped.latest("bilateral-fr-br"), shipped.latest("regional-ca-strict-retention"))
    )
    assert reasons_of(notice(sop_id=None), regional_and_bilateral, self_node="es-ncp") == (
        "no SOP in force on 2026-11-27 covers victim_identification notices with this node"
        " (es-ncp) as a party (SOPs with such a rule: bilateral-fr-br,"
        " regional-ca-strict-retention)",
    )
    para10 = SopSet(sops=(shipped.latest("para10-modus-operandi"),))
    assert reasons_of(notice(sop_id=None), para10) == (
        "no SOP held has a rule for victim_identification notices",
    )


def test_unknown_sop_and_uncovered_kind(shipped: SopSet) -> None:
    assert reasons_of(notice(sop_id="para9"), shipped)[0].startswith(
        "no SOP with id 'para9' (held: "
    )
    assert reasons_of(notice(sop_id="para10-modus-operandi"), shipped) == (
        "SOP para10-modus-operandi v1 has no rule for victim_identification notices"
        " (it covers: modus_operandi, correction, withdrawal)",
    )


def test_modus_operandi_goes_to_every_other_party(shipped: SopSet) -> None:
    fields = frozenset(
        {
            "modus_operandi.ict_platforms",
            "facts.acts",
            "facts.means",
            "facts.purposes",
            "handling.tlp",
        }
    )
    item = notice(
        kind="modus_operandi",
        sop_id=None,
        origin=None,
        transit=(),
        destination=None,
        identified_at=None,
        fields=fields,
    )
    result = plan(item, shipped, DIRECTORY, "fr-ncp", NOW)
    expected = sorted(e.node_id for e in DIRECTORY if not e.revoked and e.node_id != "fr-ncp")
    assert [r.node_id for r in result.recipients] == expected
    assert all(r.roles == ("parties",) and r.view == fields for r in result.recipients)
    assert result.dispatch_deadline is None and result.ack_deadline is None


def test_a_notice_to_parties_never_carries_victim_data(shipped: SopSet) -> None:
    fields = frozenset(
        {"facts.acts", "facts.means", "facts.purposes", "victim.family_name", "victim.sex"}
    )
    item = notice(
        kind="modus_operandi",
        sop_id=None,
        origin="BR",
        transit=(),
        destination=None,
        identified_at=None,
        fields=fields,
    )
    result = plan(item, shipped, DIRECTORY, "fr-ncp", NOW)
    for recipient in result.recipients:
        assert not any(p.startswith("victim.") for p in recipient.view)


def test_bilateral_reaches_only_its_parties(shipped: SopSet) -> None:
    result = plan(notice(sop_id="bilateral-fr-br"), shipped, DIRECTORY, "fr-ncp", NOW)
    assert [(r.node_id, r.roles) for r in result.recipients] == [("br-ncp", ("origin",))]
    assert reasons_of(notice(sop_id="bilateral-fr-br", origin="CO"), shipped) == (
        "no node of the origin country CO is a party to SOP bilateral-fr-br v1 (co-ncp)",
    )


def test_no_recipients_is_a_reason(shipped: SopSet) -> None:
    item = notice(origin="FR", transit=(), destination="FR")
    assert reasons_of(item, shipped) == (
        "no recipients: no node other than this one holds a role this rule sends to"
        " (origin, transit, destination)",
    )


def test_parties_role_with_nobody_else_is_a_reason(shipped: SopSet) -> None:
    item = notice(
        kind="modus_operandi",
        sop_id=None,
        origin=None,
        transit=(),
        destination=None,
        identified_at=None,
        fields=frozenset({"facts.acts", "facts.means", "facts.purposes"}),
    )
    lonely = (
        DirectoryEntry(node_id="fr-ncp", country="FR"),
        DirectoryEntry(node_id="x", country="XX", revoked=True),
    )
    assert reasons_of(item, shipped, lonely) == (
        "no party to SOP para10-modus-operandi v1 other than this node is in the directory"
        " and not revoked",
    )


def test_plan_inputs_are_valid_from_birth() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan(notice(), SopSet(), DIRECTORY, "fr-ncp", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        notice(identified_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match=r"case\.origin_country is set"):
        PlanInput(kind="victim_identification", origin="BR")
    with pytest.raises(ValueError, match=r"unknown field paths: victim\.shoe_size"):
        PlanInput(kind="victim_identification", present_fields=frozenset({"victim.shoe_size"}))
    with pytest.raises(ValueError, match="not an ISO 3166-1"):
        DirectoryEntry(node_id="x", country="France")
    with pytest.raises(ValueError, match="unknown notice kind"):
        PlanInput(kind="gossip")  # type: ignore[arg-type]


# -- receiver side ---------------------------------------------------------------------------


def test_role_of_finds_every_role_of_a_country() -> None:
    item = notice(origin="CO", transit=("PA", "CO"), destination="FR")
    assert role_of("CO", item) == {"origin", "transit"}
    assert role_of("FR", item) == {"destination"}
    assert role_of("ES", item) == frozenset()


def test_allowed_view_and_check_fields(shipped: SopSet) -> None:
    sop = shipped.latest("para8-victim-notification")
    transit = allowed_view(sop, "victim_identification", {"transit"})
    check_fields(transit, {"case.reference", "modus_operandi.route_legs", "facts.means"})
    with pytest.raises(FieldsNotAllowed) as caught:
        check_fields(
            transit, {"victim.sex", "victim.family_name", "victim.date_of_birth", "case.reference"}
        )
    message = str(caught.value)
    assert "3 field(s)" in message
    assert "victim.date_of_birth, victim.family_name, victim.sex" in message
    assert "case.reference" not in message and "facts.means" not in message
    with pytest.raises(FieldsNotAllowed, match=r"1 field\(s\).*: victim\.age_band$"):
        check_fields(transit, {"case.reference", "victim.age_band", "facts.means"})
    assert caught.value.code == "fields_not_allowed"
    both = allowed_view(sop, "victim_identification", {"origin", "transit"})
    assert "victim" in both
    assert allowed_view(sop, "victim_identification", {"parties"}) == frozenset()
    with pytest.raises(UnknownSop, match="no rule for 'modus_operandi'"):
        allowed_view(sop, "modus_operandi", {"origin"})


def test_what_a_sender_plans_its_receivers_accept(shipped: SopSet) -> None:
    item = notice(origin="CO", transit=("PA", "CO"))
    result = plan(item, shipped, DIRECTORY, "fr-ncp", NOW)
    sop = shipped.get(result.sop_id, result.sop_version)
    for recipient in result.recipients:
        roles = role_of(recipient.country, item)
        assert set(recipient.roles) == roles
        check_fields(allowed_view(sop, item.kind, roles), recipient.view)


# -- properties ------------------------------------------------------------------------------

COUNTRIES = ("AA", "BB", "CC", "DD", "EE")
NODE_IDS = tuple(f"n{i}" for i in range(8))
ENTRIES = (*FIELD_GROUPS, *FIELD_PATHS)
NON_PERSONAL = tuple(e for e in ENTRIES if e.partition(".")[0] not in PERSONAL_GROUPS)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[PlanInput, SopSet, list[DirectoryEntry], str]:
    directory = draw(
        st.lists(
            st.builds(
                DirectoryEntry,
                node_id=st.sampled_from(NODE_IDS),
                country=st.sampled_from(COUNTRIES),
                revoked=st.sampled_from([False, False, False, True]),
            ),
            min_size=1,
            max_size=8,
            unique_by=lambda e: e.node_id,
        )
    )
    kind = draw(st.sampled_from(KINDS))
    roles = ROLES if kind in REPLY_KINDS else tuple(r for r in ROLES if r != "sender")
    to = draw(st.lists(st.sampled_from(roles), min_size=1, max_size=4, unique=True))
    fields: dict[Role, frozenset[str]] = {}
    for role in to:
        pool = NON_PERSONAL if role == "parties" else ENTRIES
        granted = draw(st.sets(st.sampled_from(pool), min_size=1, max_size=6))
        if role in CASE_ROLES:
            granted |= {ROUTING_FIELDS[r] for r in CASE_ROLES if r in to}
        fields[role] = frozenset(granted)
    deadline = draw(st.none() | st.integers(1, 200).map(lambda h: timedelta(hours=h)))
    required = draw(st.sets(st.sampled_from(FIELD_PATHS), max_size=2))
    rule = Rule(
        kind=kind,
        to=tuple(to),
        approvals=draw(st.integers(0, 3)),
        dispatch_within=deadline,
        escalate_to=() if deadline is None else ("approver",),
        retention=timedelta(days=draw(st.integers(1, 4000))),
        tlp="amber",
        handling_code=draw(st.sampled_from(HANDLING_CODES)),
        fields=fields,
        required=frozenset(required | ({"case.identified_at_ms"} if deadline else set())),
    )
    self_node = draw(st.sampled_from([*NODE_IDS[:3], "self-only"]))
    named = draw(st.lists(st.sampled_from(NODE_IDS), min_size=1, max_size=8, unique=True))
    if self_node not in named and draw(st.integers(0, 4)):  # mostly, we are a party
        named.append(self_node)
    parties = draw(st.sampled_from([("*",), tuple(named)]))
    sop = Sop(
        id="prop",
        version=1,
        title="t",
        legal_basis=("b",),
        parties=parties,
        effective_from=date(2020, 1, 1),
        rules=(rule,),
    )
    known = sorted({e.country for e in directory})
    country = st.sampled_from(known)
    origin = draw(st.none() | country)
    destination = draw(st.none() | country)
    transit = tuple(draw(st.lists(country, max_size=3)))
    identified = draw(st.none() | st.just(IDENTIFIED))
    present = draw(st.sets(st.sampled_from(FIELD_PATHS)))
    if draw(st.integers(0, 4)):  # mostly, the notice is complete
        present |= rule.required - set(ROUTING_FIELDS.values()) - {"case.identified_at_ms"}
        identified = IDENTIFIED if "case.identified_at_ms" in rule.required else identified
    item = notice(
        kind=rule.kind,
        sop_id=draw(st.none() | st.just("prop")),
        origin=origin,
        transit=transit,
        destination=destination,
        identified_at=identified,
        fields=frozenset(present),
    )
    return item, SopSet(sops=(sop,)), directory, self_node


def outcome(
    item: PlanInput, sops: SopSet, directory: list[DirectoryEntry], self_node: str
) -> Plan | tuple[str, ...]:
    try:
        return plan(item, sops, directory, self_node, NOW)
    except PlanError as exc:
        assert exc.reasons
        return exc.reasons


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_a_recipient_never_gets_a_field_its_roles_are_not_granted(
    scenario: tuple[PlanInput, SopSet, list[DirectoryEntry], str],
) -> None:
    item, sops, directory, self_node = scenario
    result = outcome(item, sops, directory, self_node)
    if not isinstance(result, Plan):
        return
    sop = sops.latest("prop")
    rule = result.rule
    by_id = {e.node_id: e for e in directory}
    for recipient in result.recipients:
        assert recipient.node_id != self_node
        assert not by_id[recipient.node_id].revoked
        assert sop.is_party(recipient.node_id)
        assert recipient.view <= item.present_fields
        for path in recipient.view:
            assert any(is_granted(path, rule.granted(role)) for role in recipient.roles), path
            if path.partition(".")[0] in PERSONAL_GROUPS:
                assert set(recipient.roles) - {"parties"}
        case_roles = set(recipient.roles) - {"parties"}
        assert case_roles == role_of(recipient.country, item) & set(rule.to)
        receiver_roles: set[Role] = {*role_of(recipient.country, item), "parties"}
        check_fields(allowed_view(sop, item.kind, receiver_roles), recipient.view)
    expected = {
        e.node_id
        for e in directory
        if e.node_id != self_node
        and not e.revoked
        and sop.is_party(e.node_id)
        and ("parties" in rule.to or role_of(e.country, item) & set(rule.to))
    }
    assert {r.node_id for r in result.recipients} == expected


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_property_plan_is_deterministic(
    scenario: tuple[PlanInput, SopSet, list[DirectoryEntry], str], rng: random.Random
) -> None:
    item, sops, directory, self_node = scenario
    first = outcome(item, sops, directory, self_node)
    assert outcome(item, sops, directory, self_node) == first
    shuffled = list(directory)
    rng.shuffle(shuffled)
    assert outcome(item, sops, shuffled, self_node) == first
    if isinstance(first, Plan):
        ids = [r.node_id for r in first.recipients]
        assert ids == sorted(ids)
