"""The serving process's own set-up (c360/app.serving_app), in a process of its own."""

from __future__ import annotations


def test_a_serving_process_freezes_its_start_up_heap():
    """``c360 serve``'s app (c360/app.serving_app): the objects start-up made are frozen out of
    the collector and young collections run less often; in a process of its own, as serving."""
    import subprocess
    import sys

    code = (
        "import gc; from c360.app import SERVING_GC_THRESHOLD, serving_app\n"
        "before = gc.get_freeze_count(); serving_app()\n"
        "print(before, gc.get_freeze_count(), gc.get_threshold()[0], SERVING_GC_THRESHOLD)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, frozen, threshold, wanted = map(int, out.stdout.split())
    assert before == 0 and frozen > 10_000  # the schema, its types, the modules
    assert threshold == wanted > 700


def test_a_response_with_an_integer_beyond_64_bits_is_still_json():
    """orjson refuses integers beyond 64 bits (the JSON scalar could carry one): the standard
    library encodes that response instead of a failure."""
    import json

    from c360.app import GraphQLApp

    data = {"data": {"n": 2**70, "name": "张伟", "nan": None}}
    assert json.loads(GraphQLApp.encode_json(None, data)) == data  # type: ignore[arg-type]
    assert GraphQLApp.encode_json(None, {"data": {"name": "张伟"}}) == '{"data":{"name":"张伟"}}'  # type: ignore[arg-type]
