"""Tiny steps, kernels and files for the fault suite; importable by child processes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np

from pipeline_core import Step
from pipeline_core.datamodels import ImageModel, open_model
from pipeline_core.parallel.rows import map_row_slices

#: Environment of child processes: the repository on the path, no CRDS parameter files.
REPO = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """Return the environment for a child Python process that imports these helpers."""
    env = dict(os.environ, STPIPE_DISABLE_CRDS_STEPPARS="1", STEPPE_LOG_LEVEL="WARNING")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


class FillStep(Step):
    """Set every pixel to ``value``; refuse NaN inputs and die on -999 (to test batches)."""

    class_alias = "fill_value"
    default_suffix = "filled"
    spec = "value = float(default=1.0)  # the value every pixel gets"

    def process(self, model):
        """Fill the data with ``value``."""
        if np.isnan(model.data).any():
            raise ValueError(
                f"input {model.meta.filename!r} holds NaN pixels; step fill_value needs finite "
                "data: repair or drop this input"
            )
        if (model.data == -999).any():
            os._exit(7)  # a crash in compiled code, as far as the batch can tell
        model.data = np.full(model.data.shape, self.value, dtype=np.float32)
        return model


class SlowParallelStep(Step):
    """Double the data on row blocks; worker processes wait, so that a test can kill one."""

    class_alias = "slow_parallel"
    parallel = True
    spec = "flag_dir = string(default='')  # folder where workers write their pid"

    def process(self, model):
        """Double the data with :func:`hang_in_worker` on ``max_workers`` processes."""
        result = map_row_slices(
            hang_in_worker, {"data": model.data}, max_workers=self.max_workers,
            kwargs={"flag_dir": self.flag_dir, "parent": os.getpid()},
        )
        model.data = result["data"].astype(np.float32)
        return model


def hang_in_worker(data, flag_dir: str, parent: int):
    """Double ``data``; a worker process first announces its pid and waits a minute.

    The calling process takes a while over each block, so that a worker starts and
    takes one.
    """
    if flag_dir and data.shape[-2] > 1:  # not the one-row probe of the output shapes
        if os.getpid() == parent:
            time.sleep(0.25)
        else:
            Path(flag_dir, f"worker-{os.getpid()}").write_text(str(os.getpid()))
            deadline = time.monotonic() + 60.0
            while time.monotonic() < deadline:
                time.sleep(0.05)
    return {"data": data * 2.0}


def write_image(path: Path, value: float = 1.0, shape: tuple[int, int] = (8, 8)) -> Path:
    """Write a small ImageModel file filled with ``value``."""
    model = ImageModel(shape)
    model.data[...] = value
    model.meta.instrument.name = "NIRCAM"
    model.meta.filename = path.name
    model.save(str(path))
    return path


def digest(path: Path) -> str:
    """Return the SHA-256 of a file (to prove an input was not touched)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def product_value(path: Path) -> float:
    """Open a product completely and return its single value; fail if it is not uniform."""
    model = open_model(str(path))
    values = np.unique(model.data)
    assert values.size == 1, f"{path} holds a mix of values {values[:5]}: a partial product"
    return float(values[0])


def visible_files(folder: Path) -> set[str]:
    """Return the names of the non-hidden files of a folder (what a user lists as products)."""
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def hidden_files(folder: Path) -> set[str]:
    """Return the names of the hidden files of a folder (temporaries)."""
    return {p.name for p in folder.iterdir() if p.name.startswith(".")}


# --------------------------------------------------------------------------------------
# Children killed while they save (run in forkserver processes: they start fast)
# --------------------------------------------------------------------------------------


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_after_bytes(limit: int) -> None:
    """Make this process SIGKILL itself once ``limit`` bytes of FITS files are written."""
    from astropy.io.fits import file as fits_file

    written = [0]
    real_write, real_writearray = fits_file._File.write, fits_file._File.writearray

    def guard(self, data: bytes) -> None:
        if written[0] + len(data) >= limit:
            self._file.write(data[: limit - written[0]])
            self._file.flush()
            _die()
        written[0] += len(data)

    def write(self, string):
        guard(self, string.encode("latin-1") if isinstance(string, str) else bytes(string))
        real_write(self, string)

    def writearray(self, array):
        guard(self, array.tobytes())
        real_writearray(self, array)

    # every byte of a FITS file goes through these two methods
    fits_file._File.write, fits_file._File.writearray = write, writearray


def _kill_around_rename(before: bool) -> None:
    """Make this process SIGKILL itself just before (or after) a temporary file is renamed."""
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if ".tmp" not in os.path.basename(os.fspath(src)):
            return real_replace(src, dst, *args, **kwargs)
        if before:
            _die()
        real_replace(src, dst, *args, **kwargs)
        _die()

    os.replace = replace


def save_then_die(out: str, inp: str, mode: str, limit: int) -> None:
    """Run FillStep (value 2) saving into ``out``, and get killed at the point ``mode`` says."""
    os.environ.update(STPIPE_DISABLE_CRDS_STEPPARS="1", STEPPE_LOG_LEVEL="WARNING")
    if mode == "bytes":
        _kill_after_bytes(limit)
    else:
        _kill_around_rename(before=mode == "before_rename")
    FillStep.call(inp, save_results=True, output_dir=out, value=2.0)
    Path(out, "finished").write_text("the run was not killed")


def save_again_and_again(out: str, inp: str, ready: str) -> None:
    """Save the product once, say so in the file ``ready``, then save it again and again."""
    os.environ.update(STPIPE_DISABLE_CRDS_STEPPARS="1", STEPPE_LOG_LEVEL="WARNING")
    FillStep.call(inp, save_results=True, output_dir=out, value=1.0)
    Path(ready).write_text("ready")
    for value in range(2, 10_000):
        FillStep.call(inp, save_results=True, output_dir=out, value=float(value))


def child_context() -> multiprocessing.context.BaseContext:
    """Return the forkserver context the children start from (fast to start, killable)."""
    context = multiprocessing.get_context("forkserver")
    # imported once by the fork server (when it is not running yet), not by every child
    context.set_forkserver_preload(
        ["tests.reliability._steps", "pipeline_core.steps.pipeline", "astropy.io.fits", "asdf"]
    )
    return context


def start_child(target, *args) -> multiprocessing.Process:
    """Start ``target(*args)`` in a forkserver process."""
    from pipeline_core.parallel._pool import hidden_main_module

    process = child_context().Process(target=target, args=args, daemon=True)
    with hidden_main_module():
        process.start()
    return process


def save_in_rounds(out: str, inp: str, base_value: float, rounds: int, barrier) -> None:
    """Save the product once per round, all writers starting together (``barrier``)."""
    os.environ.update(STPIPE_DISABLE_CRDS_STEPPARS="1", STEPPE_LOG_LEVEL="WARNING")
    for number in range(rounds):
        barrier.wait(timeout=60)
        FillStep.call(inp, save_results=True, output_dir=out, value=base_value + number)
        barrier.wait(timeout=60)
