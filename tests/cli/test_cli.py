"""The `gateway` command as an operator meets it: exit codes, messages, files on disk.

Exit codes (gateway/cli.py): 0 success, 1 the action failed, 2 usage or configuration error.
A mistake by the operator gets one or two plain lines on stderr, never a traceback. Each test
runs `python -m gateway` in a child process; none needs a running node.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.cli import build_parser
from gateway.localnet import LocalNode

ROOT = Path(__file__).resolve().parent.parent.parent
SOPS = str(ROOT / "sops")
VICTIM_NOTICE = ROOT / "tests" / "fixtures" / "notices" / "victim-identification.toml"
# `gateway init` for fr-ncp, with the SOP directory given (the default is ./sops).
INIT_ARGS = ("--node-id", "fr-ncp", "--country", "FR", "--name", "France", "--sops", SOPS)
KEY_FILES = ("signing.key", "encryption.key", "audit.key", "storage.key")


Gateway = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    """Run `python -m gateway ARGS...` in `tmp_path`, with no -d and no GATEWAY_DATA_DIR."""
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_DATA_DIR"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
            check=False,
        )

    return run


def assert_plain_error(stderr: str | bytes, *fragments: str) -> None:
    """One or two lines, `gateway: ...`, naming what went wrong; no traceback."""
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text, text
    assert text.startswith("gateway: "), text
    assert 1 <= len(text.strip().splitlines()) <= 2, text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def make_node(base: Path, node_id: str = "fr-ncp", country: str = "FR") -> LocalNode:
    node = LocalNode(node_id, country, f"{country} test node", base / node_id)
    node.init()
    return node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> LocalNode:
    """An initialised node (never started) that the tests below do not change."""
    return make_node(tmp_path_factory.mktemp("cli"))


# --- help and usage -------------------------------------------------------------------------


def commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command and sub-command of the parser, as "peer add"; "" for `gateway` itself."""
    yield " ".join(prefix)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*prefix, name))


COMMANDS = list(commands(build_parser()))


def test_the_command_list_covers_what_operators_use() -> None:
    expected = {"init", "card export", "card show", "peer add", "peer list", "peer revoke"}
    expected |= {"serve", "send", "status", "inbox", "show", "export", "import"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.replace(" ", "-") or "gateway")
def test_every_command_has_help(command: str, gateway: Gateway, tmp_path: Path) -> None:
    result = gateway(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {' '.join(['gateway', *command.split()])}")
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []  # --help touches nothing


def test_version(gateway: Gateway) -> None:
    result = gateway("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("gateway ")


def test_no_arguments_is_a_usage_error(gateway: Gateway) -> None:
    result = gateway()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: gateway")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [["--no-such-flag"], ["inbox", "--no-such-flag"], ["peer", "list", "--no-such-flag"]],
    ids=" ".join,
)
def test_an_unknown_flag_is_a_usage_error(args: list[str], gateway: Gateway) -> None:
    result = gateway(*args)
    assert result.returncode == 2
    assert "usage: gateway" in result.stderr
    assert "Traceback" not in result.stderr


# --- data directories -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["peer", "list"],
        ["inbox", "--json"],
        ["status", "N-0000"],
        ["send", str(VICTIM_NOTICE)],
        ["card", "export"],
        ["serve"],
    ],
    ids=lambda a: a[0],
)
def test_a_missing_data_dir_is_a_plain_usage_error(
    args: list[str], gateway: Gateway, tmp_path: Path
) -> None:
    missing = tmp_path / "no-node-here"
    result = gateway("-d", str(missing), *args)
    assert result.returncode == 2
    assert_plain_error(result.stderr, str(missing), "gateway init")
    assert not missing.exists()  # and nothing was created in its place


def test_a_data_dir_that_is_a_file_is_a_plain_usage_error(gateway: Gateway, tmp_path: Path) -> None:
    """(Once NotADirectoryError escaped load_config as a traceback with exit 1.)"""
    not_a_dir = tmp_path / "gateway-node"
    not_a_dir.write_text("not a directory\n")
    result = gateway("-d", str(not_a_dir), "peer", "list")
    assert result.returncode == 2, result.stderr
    assert_plain_error(result.stderr, str(not_a_dir))


def test_init_into_a_path_that_is_a_file_is_a_plain_usage_error(tmp_path: Path) -> None:
    """(Once FileExistsError escaped cmd_init's mkdir as a traceback with exit 1.)"""
    not_a_dir = tmp_path / "gateway-node"
    not_a_dir.write_text("not a directory\n")
    node = LocalNode("fr-ncp", "FR", "France", not_a_dir)
    result = node.gateway("init", *INIT_ARGS, check=False)
    assert result.returncode == 2, result.stderr.decode()
    assert_plain_error(result.stderr, str(not_a_dir))


def test_init_twice_in_the_same_dir_is_refused_and_keeps_the_node(node: LocalNode) -> None:
    before = {p.name: p.read_bytes() for p in node.data_dir.rglob("*") if p.is_file()}
    result = node.gateway("init", *INIT_ARGS, check=False)
    assert result.returncode == 2
    assert_plain_error(result.stderr, "already holds a node")
    after = {p.name: p.read_bytes() for p in node.data_dir.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize(
    ("option", "value"),
    [("--name", "x" * 201), ("--endpoint", "ftp://example.invalid")],
    ids=["name-too-long", "endpoint-not-http"],
)
def test_init_refused_for_a_bad_card_field_leaves_nothing_behind(
    option: str, value: str, tmp_path: Path
) -> None:
    """`init` with the mistake fixed then succeeds. (Once the key files were written before
    the card was checked, and the retry failed with "already holds key files".)"""
    node = LocalNode("fr-ncp", "FR", "France", tmp_path / "fr-ncp")
    refused = node.gateway("init", *INIT_ARGS, option, value, check=False)
    assert refused.returncode == 2
    assert_plain_error(refused.stderr, option.removeprefix("--"))

    retried = node.gateway("init", *INIT_ARGS, check=False)
    assert retried.returncode == 0, retried.stderr.decode()


# --- keys -----------------------------------------------------------------------------------


def test_key_files_are_private_after_init(node: LocalNode) -> None:
    key_dir = node.data_dir / "keys"
    assert sorted(p.name for p in key_dir.iterdir()) == sorted(KEY_FILES)
    for name in KEY_FILES:
        assert stat.S_IMODE((key_dir / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(node.data_dir.stat().st_mode) == 0o700


def test_a_key_file_others_can_read_stops_the_node_with_a_chmod_hint(tmp_path: Path) -> None:
    node = make_node(tmp_path)
    assert node.gateway("peer", "list").returncode == 0
    for name, mode in [*((name, 0o644) for name in KEY_FILES), ("signing.key", 0o640)]:
        path = node.data_dir / "keys" / name
        path.chmod(mode)
        try:
            result = node.gateway("peer", "list", check=False)
        finally:
            path.chmod(0o600)
        assert result.returncode == 2, name
        assert_plain_error(result.stderr, str(path), f"chmod 600 {path}")
        secret = path.read_text().split()[-1]
        assert secret not in result.stderr.decode()  # key files are never shown


# --- peers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_card(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Brazil's card file and its true fingerprint."""
    return make_node(tmp_path_factory.mktemp("cli-br"), "br-ncp", "BR").export_card()


@pytest.mark.parametrize("wrong", ["zeros", "one-digit-off"])
def test_peer_add_with_a_wrong_fingerprint_is_refused_and_adds_nothing(
    node: LocalNode, other_card: tuple[Path, str], wrong: str
) -> None:
    card, fingerprint = other_card
    if wrong == "zeros":
        given = "0000 0000 0000 0000 0000 0000 0000 0000"
    else:
        given = fingerprint[:-1] + ("0" if fingerprint[-1] != "0" else "1")
    result = node.gateway("peer", "add", str(card), "--fingerprint", given, check=False)
    assert result.returncode == 2
    assert_plain_error(result.stderr, "fingerprint mismatch", fingerprint)
    assert json.loads(node.gateway("peer", "list", "--json").stdout) == []


# --- notices --------------------------------------------------------------------------------

# (how to spoil the fixture, the field the error must name, the value it must not repeat)
SPOILED = {
    "unknown-top-level-key": (
        ('kind = "victim_identification"', 'kind = "victim_identification"\npriority = "high"'),
        "unknown key 'priority'",
        None,
    ),
    "unknown-key-in-a-group": (
        ('\nreference = "FR-OCRTEH-2025-00142"', '\nreferense = "FR-OCRTEH-2025-00142"'),
        "unknown key 'referense' in case",
        None,
    ),
    "unknown-code": (('\nsex = "female"', '\nsex = "femme"'), "victim.sex", "femme"),
    "bad-date": (
        ('date_of_birth = "2003-07-21"', 'date_of_birth = "21/07/2003"'),
        "victim.date_of_birth",
        "21/07/2003",
    ),
    "time-without-offset": (
        ('identified_at = "2025-03-14T09:30:00+01:00"', 'identified_at = "2025-03-14T09:30:00"'),
        "case.identified_at",
        None,
    ),
    "bad-country": (
        ('origin_country = "BR"', 'origin_country = "Brazil"'),
        "case.origin_country",
        "Brazil",
    ),
    "wrong-type": (
        ("retention_days = 1826", 'retention_days = "five years"'),
        "handling.retention_days",
        "five years",
    ),
}


@pytest.mark.parametrize("spoil", SPOILED)
def test_a_notice_file_with_an_unknown_key_or_bad_value_names_the_field(
    node: LocalNode, spoil: str, tmp_path: Path
) -> None:
    (old, new), field, value = SPOILED[spoil]
    text = VICTIM_NOTICE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    notice = tmp_path / "notice.toml"
    notice.write_text(text.replace(old, new), encoding="utf-8")

    result = node.gateway("send", str(notice), check=False)

    assert result.returncode == 2
    assert_plain_error(result.stderr, str(notice), field)
    if value is not None:  # error messages never repeat a value: it may be a victim's data
        assert value not in result.stderr.decode()


def test_a_json_notice_with_a_bad_value_names_the_field(node: LocalNode, tmp_path: Path) -> None:
    document = tomllib.loads(VICTIM_NOTICE.read_text(encoding="utf-8"))
    document["facts"]["acts"].append("kidnapping")
    notice = tmp_path / "notice.json"
    notice.write_text(json.dumps(document, default=str), encoding="utf-8")

    result = node.gateway("send", str(notice), check=False)

    assert result.returncode == 2
    assert_plain_error(result.stderr, str(notice), "facts.acts[3]")


def test_a_notice_file_that_is_not_toml_is_a_usage_error(node: LocalNode, tmp_path: Path) -> None:
    notice = tmp_path / "notice.toml"
    notice.write_text('kind = "victim_identification\n', encoding="utf-8")
    result = node.gateway("send", str(notice), check=False)
    assert result.returncode == 2
    assert_plain_error(result.stderr, str(notice), "not valid TOML")


# --- lookups --------------------------------------------------------------------------------


def test_status_of_an_unknown_notice_is_a_failure(node: LocalNode) -> None:
    result = node.gateway("status", "N-00000000000000000000", check=False)
    assert result.returncode == 1
    assert_plain_error(result.stderr, "N-00000000000000000000")
