"""core/memory.py against the operating system's own count (/proc), not against itself."""

from __future__ import annotations

import subprocess
import sys
import time

from core import memory

MIB = 1024 * 1024


def test_what_two_processes_hold_at_once_counts_both():
    """A child holding 300 MiB: the peak together is this process's memory and the child's,
    as /proc counts them, not this process's alone."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; b = bytearray(300 * 2**20); "
         "b[::4096] = b'x' * len(b[::4096]); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        held = memory.rss_mib(child.pid)
        assert held >= 300
        together = memory.PeakTogether(lambda: [child.pid], interval=0.05)
        time.sleep(0.3)
        peak = together.stop()
        assert peak >= memory.rss_mib() + 300
        assert peak >= held  # (and more than the child alone: this process is in it)
    finally:
        child.kill()
        child.wait()
    assert memory.rss_mib(child.pid) == 0.0  # an ended process holds nothing


def test_freed_memory_is_given_back_to_the_operating_system():
    """200 MiB in blocks of 1,000 bytes, every hundredth kept: the heap cannot shrink from its
    top, so the freed blocks stay resident until they are given back."""
    script = """
import sys
from core import memory
blocks = [bytes(1000) for _ in range(200_000)]
kept = blocks[::100]
del blocks
before = memory.rss_mib()
assert memory.give_back()
after = memory.rss_mib()
print(before, after)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    before, after = float(out[0]), float(out[1])
    assert before - after >= 100, (before, after)
