"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Independent test vectors live beside the repository (../shared/vectors), never copied into it.
VECTORS_DIR = ROOT.parent / "shared" / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    if not (VECTORS_DIR / "README.md").is_file():
        pytest.fail(f"test vectors not found at {VECTORS_DIR}; they must sit beside the repo")
    return VECTORS_DIR
