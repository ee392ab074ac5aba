"""Helpers of the parallel benchmarks: peak memory of a process tree, and how many
cores the machine really offers at the moment.

Memory is the proportional set size (PSS, ``/proc/<pid>/smaps_rollup``): pages shared
between processes (shared-memory segments, copy-on-write pages of the fork server)
are divided among them, so the sum over the process tree counts each page once.
Linux only.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def tree(pid: int) -> list[int]:
    """Return `pid` and the process ids of all its descendants."""
    children = _children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def pss_mib(pid: int) -> float:
    """Return the PSS of one process in MiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def tree_pss_mib(pid: int | None = None) -> float:
    """Return the summed PSS of a process and its descendants, in MiB."""
    return sum(pss_mib(p) for p in tree(os.getpid() if pid is None else pid))


class PeakSampler:
    """Sample the process tree's PSS in a thread and keep the maximum.

    Parameters
    ----------
    interval : float
        Seconds between samples.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_pss_mib())
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        self.peak = tree_pss_mib()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_pss_mib())


def load() -> float:
    """Return the 1-minute load average (other work on the machine)."""
    return os.getloadavg()[0]


def _spin(count: int) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(count):
        total += i * i
    return time.perf_counter() - started


def cpu_scaling(processes: int = 2, count: int = 3_000_000) -> float:
    """Return the speed-up of `processes` copies of a pure-CPU loop run at once.

    On an idle machine with enough cores this is `processes`; when other work
    occupies the cores it is lower, and it bounds what any parallel run can reach at
    the same moment.
    """
    alone = min(_spin(count) for _ in range(2))
    context = multiprocessing.get_context("forkserver")
    with context.Pool(processes) as pool:
        pool.map(_spin, [1] * processes)  # start the workers
        started = time.perf_counter()
        pool.map(_spin, [count] * processes, chunksize=1)
        together = time.perf_counter() - started
    return processes * alone / together
