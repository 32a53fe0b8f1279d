"""Layering: the core stays pure, and imports point downwards only (DESIGN.md section 2).

    cli -> node -> net, api -> service -> store -> core -> errors, _pb

At run time, gateway.core and every module in it (found with pkgutil, so new modules are
covered as they appear) must import, and importing them must not load aiohttp, aiosqlite or
structlog; this runs in a fresh interpreter, because this test process has imported everything
already. A module that does not import is named by its own test. Statically
(ast over gateway/**/*.py), a module may import only its own layer and the layers below it, so
nothing in core imports store, net, api, service, node or cli; nothing in store imports net,
api, service, node or cli; net and api import neither node nor cli; and so on. Imports under
`if TYPE_CHECKING:` count too: a type-level dependency upwards is still one. Modules outside
the named layers (gateway/__init__.py, gateway/__main__.py, ...) are not ranked.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gateway"

# Rank of each layer: a module may import gateway modules of its own rank or lower.
# net and api are siblings (rank 4); errors and _pb are the floor.
LAYER_RANK = {
    "errors": 0,
    "_pb": 0,
    "core": 1,
    "store": 2,
    "service": 3,
    "net": 4,
    "api": 4,
    "node": 5,
    "cli": 6,
}
# Third-party packages that a layer must not import at all (CONVENTIONS.md section 1 and
# DESIGN.md section 2: "Nothing in core or store imports aiohttp").
FORBIDDEN_THIRD_PARTY = {
    "errors": {"aiohttp", "aiosqlite", "structlog"},
    "core": {"aiohttp", "aiosqlite", "structlog"},
    "store": {"aiohttp"},
}
IO_PACKAGES = ("aiohttp", "aiosqlite", "structlog")

_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys, traceback
    sys.path.insert(0, sys.argv[1])
    import gateway.core
    errors = {}
    def note(name):
        errors[name] = traceback.format_exc()
    names = [m.name for m in pkgutil.walk_packages(gateway.core.__path__, "gateway.core.", note)]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            errors[name] = traceback.format_exc()
    print(json.dumps({"modules": sorted(names), "errors": errors, "loaded": sorted(sys.modules)}))
    """
)


@pytest.fixture(scope="module")
def core_import() -> dict[str, Any]:
    """Import gateway.core and each of its modules in a fresh interpreter; report what loaded.

    A module that fails to import is recorded, not fatal, so that the I/O check still covers
    all the others.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"importing gateway.core failed:\n{proc.stderr}"
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "gateway.core.crypto" in result["modules"], "pkgutil found no core modules"
    return result


def test_every_core_module_imports(core_import: dict[str, Any]) -> None:
    errors = core_import["errors"]
    if errors:
        report = "\n".join(f"{name}:\n{error}" for name, error in sorted(errors.items()))
        pytest.fail(f"core modules that do not import:\n{report}")


def test_importing_the_core_loads_no_io_library(core_import: dict[str, Any]) -> None:
    loaded = [
        name
        for name in core_import["loaded"]
        if any(name == pkg or name.startswith(pkg + ".") for pkg in IO_PACKAGES)
    ]
    assert not loaded, f"importing gateway.core loaded I/O libraries: {loaded}"


# --- static import graph ---------------------------------------------------------------------


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """The layer of a gateway module: gateway.core.x -> core, gateway.service -> service."""
    parts = module.split(".")
    if parts[0] != "gateway" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYER_RANK else None


def imported_modules(source: str, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in source, relative ones resolved.

    `from a.b import c` yields both a.b and a.b.c, since c may be a module
    (`from gateway import store` imports the store layer). Calls of importlib.import_module and
    __import__ with a literal name count as imports.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            arg = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
            ):
                found.append((node.lineno, arg.value))
    return found


def violations(source: str, module: str, *, is_package: bool, where: str) -> list[str]:
    own = layer_of(module)
    if own is None:
        return []
    problems = []
    for line, target in imported_modules(source, module, is_package=is_package):
        target_layer = layer_of(target)
        if target_layer is not None and LAYER_RANK[target_layer] > LAYER_RANK[own]:
            problems.append(f"{where}:{line}: {own} imports {target} ({target_layer} is above)")
        top = target.split(".")[0]
        if top in FORBIDDEN_THIRD_PARTY.get(own, set()):
            problems.append(f"{where}:{line}: {own} must not import {top} ({target})")
    return problems


def test_imports_point_downwards_only() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "core" / "crypto.py" in files
    problems = []
    for path in files:
        problems += violations(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
            where=str(path.relative_to(ROOT)),
        )
    report = "\n".join(problems)
    assert not problems, f"imports that point upwards (DESIGN.md section 2):\n{report}"


# The checker itself, on made-up modules: it must see every way of spelling an upward import.
@pytest.mark.parametrize(
    ("module", "is_package", "source", "bad"),
    [
        ("gateway.core.x", False, "import gateway.store.db", True),
        ("gateway.core.x", False, "from gateway.net import server", True),
        ("gateway.core.x", False, "from gateway import service", True),
        ("gateway.core.x", False, "from ..api import routes", True),
        ("gateway.core", True, "from ..cli import main", True),
        ("gateway.core.sub.x", False, "from ...node import create_app", True),
        ("gateway.core.x", False, "import aiohttp.web", True),
        ("gateway.core.x", False, "from structlog import get_logger", True),
        ("gateway.core.x", False, "importlib.import_module('gateway.store')", True),
        ("gateway.core.x", False, "if TYPE_CHECKING:\n    from gateway.store import db", True),
        ("gateway.store.db", False, "from gateway.service import dispatch", True),
        ("gateway.store.db", False, "import aiohttp", True),
        ("gateway.net.server", False, "from gateway.node import create_app", True),
        ("gateway.api.routes", False, "from gateway import cli", True),
        ("gateway.service", False, "from gateway.net import client", True),
        ("gateway.core.x", False, "from . import crypto\nfrom gateway.errors import X", False),
        ("gateway.core.x", False, "from gateway._pb.gateway.v1 import envelope_pb2", False),
        ("gateway.store.db", False, "import aiosqlite\nfrom gateway.core import keys", False),
        ("gateway.net.server", False, "import aiohttp\nfrom gateway import service", False),
        ("gateway.net.server", False, "from gateway.api import routes", False),
        ("gateway.node", False, "from gateway.net import server\nimport structlog", False),
        ("gateway.cli", False, "from gateway.node import create_app", False),
        ("gateway.__main__", False, "from gateway.cli import main", False),
    ],
)
def test_layering_checker(module: str, is_package: bool, source: str, bad: bool) -> None:
    found = violations(source, module, is_package=is_package, where=module)
    assert bool(found) == bad, found


def test_module_names() -> None:
    assert module_name(PACKAGE / "core" / "__init__.py") == "gateway.core"
    assert module_name(PACKAGE / "service.py") == "gateway.service"
    assert layer_of("gateway.service.dispatch") == "service"
    assert layer_of("gateway") is None
    assert layer_of("gateway.config") is None
