"""Real JavaScript clients (tests/clients: Apollo Client, the graphql-http audit) run by Node.js
against the app served over HTTP. Each script reads one JSON argument and prints one JSON
result on its last line of stdout; ``make test`` installs the pinned packages (npm ci)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from core.settings import PROJECT_ROOT

CLIENTS = PROJECT_ROOT / "tests" / "clients"


def run_client(script: str, argument: dict[str, Any], *, timeout_s: float = 180) -> Any:
    """``node tests/clients/<script> '<argument as JSON>'``; its result, or a test failure that
    shows what the script said."""
    node = shutil.which("node")
    if node is None or not (CLIENTS / "node_modules").is_dir():
        pytest.fail(
            "Node.js or tests/clients/node_modules is missing: run `make clients` (make test does)",
            pytrace=False,
        )
    done = subprocess.run(
        [node, str(CLIENTS / script), json.dumps(argument)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=CLIENTS,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{script} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    lines = done.stdout.strip().splitlines()
    assert lines, f"{script} printed nothing; stderr:\n{done.stderr[-4000:]}"
    return json.loads(lines[-1])
