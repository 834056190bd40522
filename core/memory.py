"""A process's memory as the operating system counts it (Linux's /proc), and giving freed memory
back to it.

The loader's memory target (≤ 2 GiB at a million customers) is about resident memory: what the
machine must hold. ``getrusage``'s peak is one process's; a bulk load runs two (the loader and the
process writing the importer's files, etl/batches.FilesProcess), so what both hold at once is
sampled (:class:`PeakTogether`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable
from functools import cache


def meminfo_kib(field: str) -> int | None:
    """The machine's ``field`` of /proc/meminfo (``MemTotal``, ``MemAvailable``) in KiB, or
    None when it cannot be read."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def rss_mib(pid: int | str = "self") -> float:
    """The resident memory of process ``pid`` now, in MiB; 0 when it has ended (or no /proc)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) / 1024  # (kB)
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def give_back() -> bool:
    """Return the heap's free pages to the operating system (glibc's ``malloc_trim``): after a
    phase that freed much (pandas' chunks, a thread's arena), the resident memory drops to what
    is in use. False where the C library has no such call."""
    libc = _libc()
    trim: Callable[[int], int] | None = getattr(libc, "malloc_trim", None) if libc else None
    if trim is None:
        return False
    trim(0)
    return True


class PeakTogether:
    """The highest resident memory of this process and ``others()`` (pids) together, sampled
    every ``interval`` seconds by a thread of its own until :meth:`stop`. A peak shorter than
    the interval can pass unseen; shared libraries count in each process's figure (as the
    system's tools count them)."""

    def __init__(self, others: Callable[[], list[int]], *, interval: float = 0.2) -> None:
        self._others = others
        self._interval = interval
        self._stopped = threading.Event()
        self.peak_mib = 0.0
        self._thread = threading.Thread(target=self._run, name="peak-together", daemon=True)
        self._thread.start()

    def sample(self) -> float:
        now = rss_mib() + sum(rss_mib(pid) for pid in self._others())
        self.peak_mib = max(self.peak_mib, now)
        return now

    def _run(self) -> None:
        while not self._stopped.is_set():
            self.sample()
            self._stopped.wait(self._interval)

    def stop(self) -> float:
        """Stop sampling; the peak."""
        if not self._stopped.is_set():
            self._stopped.set()
            self._thread.join()
            self.sample()
        return self.peak_mib
