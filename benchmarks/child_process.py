"""The child processes of the comparison benchmarks (standard library only).

The comparison benchmarks run each pipeline in a child process of its own
environment (steppe's, or jwst's through ``STEPPE_JWST_PYTHON``). A child reports
its peak memory and step status with :func:`rss_high_water` and
:func:`status_of`, and prints one line ``RESULT <json>``, which the parent reads
with :func:`run_child`; the parent writes its report with :func:`write_report`.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

#: ``meta.cal_step`` keys that differ from the step name.
CAL_STEP_KEYS = {"dark_current": "dark_sub"}


def rss_high_water() -> int:
    """Peak resident memory of this process so far, bytes (``VmHWM``; 0 where /proc is absent)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def status_of(result, name: str) -> str | None:
    """``meta.cal_step`` of a step's result (the first model of a list)."""
    model = result[0] if isinstance(result, (tuple, list)) else result
    if model is None:
        return None
    cal = model.meta.cal_step
    return getattr(cal, CAL_STEP_KEYS.get(name, name), None) or getattr(cal, name, None)


def time_steps(pipe, names: Sequence[str], after: Callable | None = None) -> dict:
    """Wrap the ``run`` of each named step of `pipe` to record what it did.

    Returns the record the wrappers fill: ``time`` (seconds, summed over the
    step's calls), ``hwm`` (peak RSS after its last call), ``status``
    (``meta.cal_step`` of its result) and ``enabled`` (not skipped), each by step
    name. ``after(name, result)`` is called after each call.
    """
    record: dict = {"time": {}, "hwm": {}, "status": {}}

    def wrap(name, step):
        original = step.run

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            result = original(*args, **kwargs)
            record["time"][name] = record["time"].get(name, 0.0) + time.perf_counter() - t0
            record["hwm"][name] = rss_high_water()
            record["status"][name] = status_of(result, name)
            if after is not None:
                after(name, result)
            return result

        object.__setattr__(step, "run", timed)

    for name in names:
        wrap(name, getattr(pipe, name))
    record["enabled"] = {name: not getattr(pipe, name).skip for name in names}
    return record


def uncal_in(folder: str) -> str:
    """The path of the (first) ``_uncal.fits`` file of `folder`."""
    import os

    return os.path.join(folder, [f for f in os.listdir(folder) if f.endswith("_uncal.fits")][0])


def run_child(cmd: list[str], env: dict | None = None, log: Path | None = None) -> dict:
    """Run a child process; return the JSON of its last ``RESULT`` line.

    Its standard error goes to ``log`` when given; a failure (non-zero exit or
    no ``RESULT`` line) raises RuntimeError with the end of that output.
    """
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if log is not None:
        log.write_text(proc.stderr)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT"):])


def write_report(path: Path, sections: Sequence[str]) -> None:
    """Write a benchmark's report (its lines), making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(sections) + "\n")
    print(f"report written to {path}")
