"""A worker process killed during ``maximum_cores`` work: the run fails at once, naming the step.

``SlowParallelStep`` spreads its rows over two processes; its kernel makes the
worker announce its pid and wait. The test kills that worker with SIGKILL: the
step raises a :class:`~pipeline_core.errors.StepError` within seconds, naming the
step, the kernel, what happened and the remedy; nothing is saved, the input is
untouched, no shared memory is left behind, and the next run works.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from pipeline_core.errors import StepError
from tests.reliability._steps import SlowParallelStep, digest, visible_files, write_image


def _kill_first_worker(flag_dir: Path, killed: list[float]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        flags = list(flag_dir.glob("worker-*"))
        if flags:
            os.kill(int(flags[0].read_text()), signal.SIGKILL)
            killed.append(time.monotonic())
            return
        time.sleep(0.01)


def test_a_killed_worker_fails_the_step_within_seconds(
    tmp_path, monkeypatch, at_least_two_cpus, no_shared_memory_leaks
):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    flags, out = tmp_path / "flags", tmp_path / "out"
    flags.mkdir()
    inp = write_image(tmp_path / "jw_par_uncal.fits", value=3.0, shape=(64, 8))
    before = digest(inp)
    killed: list[float] = []
    killer = threading.Thread(target=_kill_first_worker, args=(flags, killed))
    killer.start()
    try:
        with pytest.raises(StepError) as info:
            SlowParallelStep.call(
                str(inp), maximum_cores=2, flag_dir=str(flags), save_results=True, output_dir=str(out)
            )
        failed = time.monotonic()
    finally:
        killer.join()
    assert killed, "no worker process started"
    assert failed - killed[0] < 5.0, f"the step took {failed - killed[0]:.1f} s to notice"
    message = str(info.value)
    assert message.startswith("step 'slow_parallel': a worker process died while running kernel "
                              "tests.reliability._steps.hang_in_worker on 64 rows with 2 processes")
    assert "(it was killed, crashed or ran out of memory) and no result was produced" in message
    assert re.search(r"Run with maximum_cores='none' to run in this process", message)
    assert digest(inp) == before
    assert not out.exists() or visible_files(out) == set()
    # the pool is replaced: the same step runs again, here on one core as the message advises
    result = SlowParallelStep.call(str(inp), maximum_cores="none", flag_dir=str(flags))
    assert float(result.data.max()) == 6.0
