"""What a benchmark's child process reports about itself (standard library only).

The comparison benchmarks run each pipeline in a child process of its own
environment (steppe's, or jwst's through ``STEPPE_JWST_PYTHON``); these helpers
are what both kinds of child use to report peak memory and step status.
"""

from __future__ import annotations

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
