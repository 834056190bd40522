"""A configuration value a command cannot take fails it naming the variable, through the real
entry point (`c360`, as installed), with exit 2 and no traceback; `--help` needs no valid
configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.etl_support import c360


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``c360 ARGS`` with nothing of the developer's configuration: a bare environment and a
    working folder without a ``.env``."""
    bare = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "C360_ENV": "test"}
    return subprocess.run(
        c360(*args), env=bare | env, cwd=cwd, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("command", "variable", "value", "says"),
    [
        (["load", "."], "BULK_IMPORT_HEAP", "1.5g", "must be a JVM heap size"),
        (["load", "."], "BULK_IMPORT_HEAP", "1.005GiB", "must be a JVM heap size"),
        (["load", "."], "NEO4J_HEAP", "4GB", "must be a JVM heap size"),
        (["neo4j", "status"], "NEO4J_LOCAL_PORT", "seven", "valid integer"),
        (["graph", "migrate"], "AUDIT_DATABASE", "elsewhere", "must be unset or NEO4J_DATABASE"),
        (["token", "--role", "admin"], "CORS_ORIGINS", "not json", "CORS_ORIGINS"),
    ],
)
def test_a_bad_value_fails_the_command_naming_it(
    tmp_path: Path, command: list[str], variable: str, value: str, says: str
) -> None:
    done = _run(tmp_path, *command, **{variable: value})
    assert done.returncode == 2, done
    said = " ".join(done.stderr.split())  # (the console wraps long lines)
    assert "error: configuration:" in said and variable in said and says in said, said
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["load", "--help"], ["neo4j", "stop", "--help"], ["neo4j"]])
def test_help_needs_no_valid_configuration(tmp_path: Path, command: list[str]) -> None:
    done = _run(tmp_path, *command, NEO4J_LOCAL_PORT="seven")
    assert done.returncode in (0, 2) and "Usage: c360" in done.stdout + done.stderr, done
    assert "configuration" not in done.stdout + done.stderr


def test_a_heap_setting_the_jvm_takes_is_accepted(tmp_path: Path) -> None:
    done = _run(tmp_path, "token", "--role", "admin", BULK_IMPORT_HEAP="1100m", NEO4J_HEAP="2G")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2  # (a JWT: header.payload.signature)
