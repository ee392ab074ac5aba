"""map_row_slices from scripts without a main guard, ``python -c`` and interactive input."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline_core.parallel.rows import available_cores

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    available_cores() < 2, reason="the programs ask for two processes on their own CPUs"
)

# No `if __name__ == "__main__":` guard on purpose.
PROGRAM = textwrap.dedent(
    """
    import numpy as np
    from pipeline_core.parallel.rows import map_row_slices
    from tests.core.parallel_kernels import meet, ramp_statistics

    print("top-level code ran", flush=True)
    rng = np.random.default_rng(3)
    inputs = {
        "data": rng.normal(size=(1, 5, 9, 4)).astype(np.float32),
        "groupdq": np.zeros((1, 5, 9, 4), np.uint8),
    }
    serial = ramp_statistics(**inputs)
    parallel = map_row_slices(ramp_statistics, inputs, max_workers=2)
    same = all(np.array_equal(serial[k], parallel[k]) for k in serial)
    pids = map_row_slices(
        meet, {"data": np.ones((32, 1))}, max_workers=2, kwargs={"directory": "."}
    )["pid"]
    print("identical", same, "workers", len(set(pids.ravel().tolist())), flush=True)
    """
)

MAIN_KERNEL = textwrap.dedent(
    """
    import numpy as np
    from pipeline_core.errors import StepError
    from pipeline_core.parallel.rows import map_row_slices

    def double(data):
        return {"data": 2 * data}

    try:
        map_row_slices(double, {"data": np.ones((4, 2))}, max_workers=2)
    except StepError as error:
        print(error)
    """
)


def _run(args, tmp_path, stdin=None):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("STEPPE_CORE_BUDGET", None)
    return subprocess.run(
        [sys.executable, "-W", "error", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )


def _check(done):
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    # The workers did not run the program again.
    assert done.stdout.splitlines() == ["top-level code ran", "identical True workers 2"]


def test_script_without_main_guard(tmp_path):
    script = tmp_path / "reduce.py"
    script.write_text(PROGRAM)
    _check(_run([str(script)], tmp_path))


def test_python_dash_c(tmp_path):
    _check(_run(["-c", PROGRAM], tmp_path))


def test_interactive_session_on_stdin(tmp_path):
    _check(_run(["-"], tmp_path, stdin=PROGRAM))


def test_run_as_module(tmp_path):
    (tmp_path / "reduce_module.py").write_text(PROGRAM)
    _check(_run(["-m", "reduce_module"], tmp_path))


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_kernel_defined_in_main_says_what_to_do(tmp_path, how):
    if how == "script":
        script = tmp_path / "reduce.py"
        script.write_text(MAIN_KERNEL)
        done = _run([str(script)], tmp_path)
    else:
        done = _run(["-"], tmp_path, stdin=MAIN_KERNEL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "kernel __main__.double is defined in the main script or an interactive session, "
        "which worker processes do not import. Define the kernel as a top-level function "
        "in a module that can be imported (a .py file on sys.path, e.g. next to your "
        "script or notebook) and import it from there; or run serially with "
        "maximum_cores='none' (max_workers=1)."
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_their_parent_is_killed(tmp_path):
    program = textwrap.dedent(
        """
        import os
        import numpy as np
        from pipeline_core.parallel.rows import map_row_slices
        from tests.core.parallel_kernels import scale_rows

        result = map_row_slices(scale_rows, {"data": np.ones((4, 2))}, max_workers=2)
        print(int(result["pid"][-1, 0]), flush=True)
        os._exit(0)  # no cleanup at all
        """
    )
    done = _run(["-c", program], tmp_path)
    worker = int(done.stdout.strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.05)
    assert not _alive(worker)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
