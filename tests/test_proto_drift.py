"""The generated code under gateway/_pb matches proto/, and the .proto files stay language-neutral.

The .proto files are the source of truth (DESIGN.md section 2); the generated Python is committed
so that installing gateway needs no protoc. This test regenerates it with the same function
`make proto` runs (scripts/gen_proto.py) and compares file by file.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
PB_DIR = ROOT / "gateway" / "_pb"
GEN_SCRIPT = ROOT / "scripts" / "gen_proto.py"
FIX = "run `make proto` and commit gateway/_pb"

PROTO_FILES = sorted(PROTO_DIR.rglob("*.proto"))

_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENT = re.compile(r"//[^\n]*")
# `option name = ...;` or `option (custom.name) = ...;`, at file, message, field or enum level
# (field options in brackets are caught by the second pattern).
_OPTION = re.compile(r"\boption\s+\(?\s*([\w.]+)")
_BRACKET_OPTION = re.compile(r"\[([^\]]*)\]")


def _load_gen_proto() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_gateway_gen_proto", GEN_SCRIPT)
    assert spec is not None and spec.loader is not None, f"cannot load {GEN_SCRIPT}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(directory: Path) -> dict[str, bytes]:
    """Every file under directory by relative path, without Python's bytecode caches."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _strip_comments(text: str) -> str:
    # Good enough for our schemas: no string literal in them contains "//" or "/*".
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))


def _python_options(proto_source: str) -> list[str]:
    """Names of options in proto_source (comments ignored) that only concern Python."""
    code = _strip_comments(proto_source)
    options = _OPTION.findall(code)
    for bracket in _BRACKET_OPTION.findall(code):
        options += re.findall(r"\(?\s*([\w.]+)\s*\)?\s*=", bracket)
    return [o for o in options if o.startswith("py_") or "python" in o.lower()]


def test_generated_code_matches_the_proto_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "_pb"
    _load_gen_proto().generate(out_dir)
    fresh, committed = _files(out_dir), _files(PB_DIR)
    assert fresh, "scripts/gen_proto.py generated nothing"

    missing = sorted(fresh.keys() - committed.keys())
    extra = sorted(committed.keys() - fresh.keys())
    assert not missing, f"generated files missing from gateway/_pb: {missing}; {FIX}"
    assert not extra, f"files in gateway/_pb that proto/ does not generate: {extra}; {FIX}"

    stale = sorted(name for name in fresh if fresh[name] != committed[name])
    if stale:
        first = stale[0]
        diff = difflib.unified_diff(
            committed[first].decode(errors="replace").splitlines(),
            fresh[first].decode(errors="replace").splitlines(),
            f"committed/{first}",
            f"generated/{first}",
            lineterm="",
            n=1,
        )
        excerpt = "\n".join(list(diff)[:30])
        pytest.fail(f"gateway/_pb is out of date: {stale}; {FIX}\n{excerpt}")


def test_there_are_proto_files() -> None:
    assert PROTO_FILES, f"no .proto files under {PROTO_DIR}"


@pytest.mark.parametrize("path", PROTO_FILES, ids=lambda p: p.relative_to(PROTO_DIR).as_posix())
def test_proto_file_is_proto3_and_language_neutral(path: Path) -> None:
    code = _strip_comments(path.read_text(encoding="utf-8"))
    first_statement = code.strip().split(";", 1)[0] + ";"
    assert re.fullmatch(r'syntax\s*=\s*"proto3"\s*;', first_statement), (
        f'{path.relative_to(ROOT)} must start with `syntax = "proto3";` (after comments), '
        f"found {first_statement[:60]!r}"
    )

    python_specific = _python_options(code)
    assert not python_specific, (
        f"{path.relative_to(ROOT)} has Python-specific options {python_specific}: keep the "
        "schemas language-neutral; scripts/gen_proto.py handles Python packaging"
    )


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ('syntax = "proto3";\noption py_generic_services = true;', ["py_generic_services"]),
        ('syntax = "proto3";\n  option (python.package) = "x";', ["python.package"]),
        ('syntax = "proto3";\nmessage M { int32 a = 1 [(py_name) = "b"]; }', ["py_name"]),
        ('syntax = "proto3";\n// option py_generic_services = true;\n', []),
        ('syntax = "proto3";\noption go_package = "x";\noption java_package = "y";', []),
    ],
)
def test_option_scanner(snippet: str, found: list[str]) -> None:
    assert _python_options(snippet) == found
