"""A configuration value a command cannot take fails it naming the variable, through the real
entry point (`c360`, as installed), with exit 2 and no traceback."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.etl_support import c360


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "C360_", "BULK_"))}
    return subprocess.run(
        c360(*args), env=clean | {"C360_ENV": "test"} | env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("BULK_IMPORT_HEAP", "1.5g", "must be a JVM heap size"),
        ("BULK_IMPORT_HEAP", "1.005GiB", "must be a JVM heap size"),
        ("NEO4J_HEAP", "4GB", "must be a JVM heap size"),
        ("NEO4J_LOCAL_PORT", "seven", "valid integer"),
        ("AUDIT_DATABASE", "elsewhere", "must be unset or NEO4J_DATABASE"),
    ],
)
def test_a_bad_value_fails_the_command_naming_it(
    tmp_path, variable: str, value: str, says: str
) -> None:
    done = _run("load", str(tmp_path), **{variable: value})
    assert done.returncode == 2, done
    said = " ".join(done.stderr.split())  # (the console wraps long lines)
    assert f"error: configuration: {variable}" in said and says in said, said
    assert "Traceback" not in done.stderr


def test_a_heap_setting_the_jvm_takes_is_accepted() -> None:
    done = _run("token", "--role", "admin", BULK_IMPORT_HEAP="1100m")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2  # (a JWT: header.payload.signature)
