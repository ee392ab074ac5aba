"""A batch of 50 inputs, 10 of them broken: 40 products, 10 crash reports, a correct summary.

The broken inputs fail in every way an input can: not a FITS file, a truncated
FITS file, data the step refuses (NaN), and data that kills the process running
it. The batch runs on two worker processes; the one that dies takes only its own
input down. Every failure's message names the input, what is wrong and what to do.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from pipeline_core.batch.runner import run_batch
from pipeline_core.datamodels import ImageModel
from tests.reliability._steps import FillStep, digest, hidden_files, product_value, write_image

GOOD = 40


@pytest.fixture
def inputs(tmp_path):
    """50 inputs (40 good, 10 broken) and what each broken one must report."""
    folder = tmp_path / "in"
    folder.mkdir()
    good = [write_image(folder / f"jw_ok{n:02d}_uncal.fits", value=float(n)) for n in range(GOOD)]
    broken: dict[Path, list[str]] = {}
    for n in range(3):
        path = folder / f"jw_text{n}_uncal.fits"
        path.write_text("this is not a FITS file\n" * 20)
        broken[path] = [f"DataModelError: Cannot open '{path}': it is not a FITS file",
                        "Pass a JWST-layout FITS file"]
    for n in range(3):
        path = write_image(folder / f"jw_cut{n}_uncal.fits")
        path.write_bytes(path.read_bytes()[: 6000 + 1000 * n])
        broken[path] = [f"DataModelError: Cannot read '{path}': File may have been truncated",
                        "The file is truncated or corrupt; write it again or fetch a fresh copy"]
    for n in range(3):
        path = folder / f"jw_nan{n}_uncal.fits"
        model = ImageModel((8, 8))
        model.data[2, 3] = np.nan
        model.save(str(path))
        broken[path] = [f"ValueError: input 'jw_nan{n}_uncal.fits' holds NaN pixels; step fill_value "
                        "needs finite data: repair or drop this input"]
    path = write_image(folder / "jw_dies_uncal.fits", value=-999.0)
    broken[path] = ["worker died: the process running this input died (killed by the system, "
                    "out of memory, or a crash in compiled code) and reported nothing; run this "
                    "input alone (steppe run) to see where it stops, or give each job more memory"]
    everything = sorted([*good, *broken])
    assert len(everything) == 50
    return everything, good, broken


def test_fifty_inputs_ten_broken(tmp_path, inputs, monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    everything, good, broken = inputs
    before = {p: digest(p) for p in everything}
    out = tmp_path / "out"
    report = run_batch(FillStep, [str(p) for p in everything], jobs=2, output_dir=str(out), value=7.0)

    assert len(report.ok) == GOOD and len(report.failed) == 10 and not report.skipped
    assert not report.succeeded
    products = sorted(p.name for p in out.glob("*_filled.fits"))
    assert products == sorted(p.name.replace("_uncal", "_filled") for p in good)
    for name in products:
        assert product_value(out / name) == 7.0
    crashes = sorted(p.name for p in out.glob("*_crash.txt"))
    assert crashes == sorted(p.name.replace(".fits", "_crash.txt") for p in broken)
    assert hidden_files(out) == set()  # no temporary left by the process that died

    by_input = {Path(r.input): r for r in report.results}
    for path, fragments in broken.items():
        result = by_input[path]
        assert result.status == "failed" and result.crash_file == str(out / f"{path.stem}_crash.txt")
        crash = Path(result.crash_file).read_text()
        assert crash.startswith(f"{path}\n")
        for fragment in fragments:
            assert fragment in result.error, (path.name, result.error)

    lines = report.summary().splitlines()
    assert lines[0].split() == ["input", "status", "time", "(s)", "product", "/", "error"]
    assert len(lines) == 52
    assert re.fullmatch(r"fill_value: 50 input\(s\): 40 ok, 10 failed, 0 skipped in \d+\.\d\d s", lines[-1])
    for line in lines[1:-1]:
        name, status = line.split()[:2]
        if (out.parent / "in" / name) in broken:
            assert status == "failed" and "(traceback: " in line
        else:
            assert status == "ok" and line.endswith(name.replace("_uncal", "_filled"))
    assert {p: digest(p) for p in everything} == before
