"""Agreement of steppe's Detector1 products with the JWST pipeline's, on a full frame.

Writes (or reuses) the synthetic full-frame input and references of
``benchmarks/detector1.py``, runs JWST's ``calwebb_detector1`` on them in the
environment named by ``STEPPE_JWST_PYTHON`` (its ``python``; the ``jwst`` package
is not a steppe dependency), runs steppe's ``Detector1Pipeline`` here with the same
reference files, and prints how the rate products differ.

Run::

    STEPPE_JWST_PYTHON=/path/to/jwst-env/bin/python python benchmarks/detector1_vs_jwst.py
    STEPPE_JWST_PYTHON=... python benchmarks/detector1_vs_jwst.py --size 2x20 --workdir /tmp/d1bench
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from detector1 import make_inputs, run_jwst, step_overrides  # noqa: E402


def compare(ours, theirs_path: str) -> list[str]:
    """Return report lines comparing a steppe rate model with a JWST rate file."""
    from astropy.io import fits

    with fits.open(theirs_path) as theirs:
        sci, dq, err = (theirs[name].data for name in ("SCI", "DQ", "ERR"))
        sci, err = sci.astype(np.float64), err.astype(np.float64)
    mine = ours.data.astype(np.float64)
    good = (dq == 0) & (ours.dq == 0) & np.isfinite(sci) & np.isfinite(mine)
    absdiff = np.abs(mine - sci)[good]
    rel = absdiff / np.maximum(np.abs(sci[good]), 1e-3)
    err_rel = np.abs(ours.err.astype(np.float64) - err)[good] / err[good]
    return [
        f"pixels compared (DQ 0 in both): {good.sum()} of {good.size}",
        f"SCI: max |diff| {absdiff.max():.3g} DN/s, median relative {np.median(rel):.2g}, "
        f"99.9th percentile relative {np.quantile(rel, 0.999):.2g}",
        f"ERR: max relative difference {err_rel.max():.2g}",
        f"DQ: {int((ours.dq != dq).sum())} pixels differ",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run both pipelines on one size and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1x10", help="NINTSxNGROUPS of the 2048x2048 input")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    python = os.environ.get("STEPPE_JWST_PYTHON")
    if not python:
        print("set STEPPE_JWST_PYTHON to the python of an environment with jwst installed", file=sys.stderr)
        return 2
    nints, ngroups = (int(v) for v in args.size.split("x"))
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="d1cmp_"))
    workdir.mkdir(parents=True, exist_ok=True)
    inputs = make_inputs(workdir, nints, ngroups)
    jwst_dir = workdir / "jwst"
    jwst_dir.mkdir(exist_ok=True)
    if run_jwst(python, inputs, jwst_dir, save_results=True) is None:
        return 1
    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    from builtin_steps.pipelines import Detector1Pipeline

    rate = Detector1Pipeline.call(inputs["uncal"], steps=step_overrides(inputs["refs"], "none"))
    theirs = jwst_dir / Path(inputs["uncal"]).name.replace("_uncal.fits", "_rate.fits")
    print(f"steppe vs jwst, {nints}x{ngroups}x2048x2048:")
    for line in compare(rate, str(theirs)):
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
