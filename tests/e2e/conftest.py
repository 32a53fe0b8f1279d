"""Fixtures for the end-to-end tests: federations of real nodes on 127.0.0.1.

`make_federation` is module-scoped: a test module builds its federation once and its tests
share it (each node start-up costs about a second). Under `pytest -n 2` each worker that runs
tests of a module builds its own copy, so no two processes ever share a node. Every node a
federation started is stopped (SIGTERM, then SIGKILL) when the module is done, pass or fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.e2e.federation import Federation, MakeFederation


@pytest.fixture(scope="module")
def make_federation(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[MakeFederation]:
    """Build a federation: `gateway init` each node, exchange cards (every node trusts every
    other), start them all. `sop_files` gives a node its own SOP directory; `trust_all=False`
    and `start=False` leave those steps to the caller."""
    made: list[Federation] = []

    def make(
        *node_ids: str,
        sop_files: Mapping[str, Iterable[Path]] | None = None,
        trust_all: bool = True,
        start: bool = True,
    ) -> Federation:
        federation = Federation(tmp_path_factory.mktemp(request.module.__name__.split(".")[-1]))
        made.append(federation)  # before anything starts, so that teardown stops it all
        federation.add(node_ids, sop_files=sop_files)
        if trust_all:
            federation.trust_all()
        if start:
            federation.start()
        return federation

    yield make
    errors: list[Exception] = []
    for federation in made:
        try:
            federation.close()
        except Exception as exc:  # close the others all the same
            errors.append(exc)
    if errors:
        raise errors[0]
