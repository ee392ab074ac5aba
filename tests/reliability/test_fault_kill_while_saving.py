"""A run killed (SIGKILL) while it saves a product loses nothing and breaks nothing.

Child processes (forkserver processes, quick to start) run
``FillStep.call(..., save_results=True)`` and are killed

* at chosen points of the write: after 1, 2880 (the primary header), and several
  thousand more bytes of the file, just before the temporary file is renamed onto
  the product, and just after;
* after varied delays while they save the product again and again.

After each kill: the input is byte for byte what it was; the product is either
absent, or the previous one, or the new one, complete (every pixel read back holds
one value); anything half-written is a hidden temporary file that no listing of
products shows; and a later run writes its product whole and deletes that
temporary file (its process is dead).
"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest

from pipeline_core import output
from tests.reliability._steps import (
    FillStep,
    digest,
    hidden_files,
    product_value,
    save_again_and_again,
    save_then_die,
    start_child,
    visible_files,
    write_image,
)

SHAPE = (256, 256)  # a product of about 800 kB: data, dq and err
INPUT = "jw_kill_uncal.fits"
PRODUCT = "jw_kill_filled.fits"

# (mode, bytes written before the kill); the product file is about 800 kB
KILL_POINTS = [
    ("bytes", 1),
    ("bytes", 2880),
    ("bytes", 20_000),
    ("bytes", 300_000),
    ("bytes", 700_000),
    ("before_rename", 0),
    ("after_rename", 0),
]


@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


def _scenario_folders(root: Path, name: str, previous: Path | None) -> tuple[Path, Path]:
    inputs, out = root / name / "in", root / name / "out"
    inputs.mkdir(parents=True)
    out.mkdir()
    write_image(inputs / INPUT, value=5.0, shape=SHAPE)
    if previous is not None:
        shutil.copy2(previous, out / PRODUCT)
    return inputs / INPUT, out


def _later_run_is_whole(inp: Path, out: Path) -> None:
    """A new run after the kill writes its product whole, and deletes what the dead run left."""
    FillStep.call(str(inp), save_results=True, output_dir=str(out), value=3.0)
    assert product_value(out / PRODUCT) == 3.0
    assert visible_files(out) == {PRODUCT}
    assert hidden_files(out) == set(), "the temporary file of the killed run is still there"


@pytest.fixture(scope="module")
def previous_product(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("previous")
    inp = write_image(folder / INPUT, value=5.0, shape=SHAPE)
    patch = pytest.MonkeyPatch()
    patch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    try:
        FillStep.call(str(inp), save_results=True, output_dir=str(folder), value=1.0)
    finally:
        patch.undo()
    assert (folder / PRODUCT).stat().st_size > max(limit for _, limit in KILL_POINTS)
    return folder / PRODUCT


@pytest.mark.parametrize("previous", [False, True], ids=["no-previous-product", "previous-product"])
def test_sigkill_at_every_point_of_a_write(tmp_path, previous_product, previous):
    runs = []
    for mode, limit in KILL_POINTS:
        inp, out = _scenario_folders(tmp_path, f"{mode}-{limit}", previous_product if previous else None)
        runs.append((mode, limit, inp, out, digest(inp), start_child(save_then_die, str(out), str(inp), mode, limit)))
    for mode, limit, inp, out, before, child in runs:
        child.join(timeout=60)
        where = f"killed at {mode} {limit}"
        assert child.exitcode == -signal.SIGKILL, f"{where}: exit status {child.exitcode}"
        assert not (out / "finished").exists()
        assert digest(inp) == before, f"{where}: the input changed"
        if mode == "after_rename":
            assert product_value(out / PRODUCT) == 2.0, where
            assert hidden_files(out) == set(), where
        else:
            if previous:
                assert product_value(out / PRODUCT) == 1.0, f"{where}: the previous product changed"
            else:
                assert not (out / PRODUCT).exists(), f"{where}: a product appeared"
            (leftover,) = hidden_files(out)  # the partial file, under a hidden temporary name
            assert output.is_temporary_file(leftover), f"{where}: {leftover}"
        assert visible_files(out) == ({PRODUCT} if previous or mode == "after_rename" else set())
        _later_run_is_whole(inp, out)


def test_sigkill_after_varied_delays_while_saving_again_and_again(tmp_path):
    delays = [0.0, 0.01, 0.03, 0.07, 0.15, 0.3]
    runs = []
    for delay in delays:
        inp, out = _scenario_folders(tmp_path, f"delay-{delay}", None)
        ready = tmp_path / f"delay-{delay}" / "ready"
        runs.append((delay, inp, out, ready, digest(inp), start_child(save_again_and_again, str(out), str(inp), str(ready))))
    for delay, inp, out, ready, before, child in runs:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.is_alive() and time.monotonic() < deadline, f"child exited: {child.exitcode}"
            time.sleep(0.005)
        time.sleep(delay)
        child.kill()
    for delay, inp, out, ready, before, child in runs:
        child.join(timeout=60)
        assert child.exitcode == -signal.SIGKILL
        assert digest(inp) == before
        value = product_value(out / PRODUCT)  # whole, whichever run wrote it last
        assert value == int(value) and value >= 1.0
        assert len(hidden_files(out)) <= 1
        _later_run_is_whole(inp, out)
