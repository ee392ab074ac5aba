"""Run JWST's ``calwebb_detector1`` on one synthetic exposure, timing every step.

Run with the ``python`` of the environment where ``jwst`` 3.0 is installed::

    $STEPPE_JWST_PYTHON benchmarks/detector1_vs_jwst_runjwst.py miri FOLDER OUTDIR [--save-steps]

The pipeline is built with the comparison's ``steps=`` parameters and run as
``calwebb_detector1`` runs; each of its steps' ``run`` is wrapped to record the
step's wall time and the process's peak resident memory (``VmHWM``) after it.
Prints one ``RESULT`` line (JSON) and writes the rate product's arrays to
``OUTDIR/rate.npz``; with ``--save-steps`` the arrays after every step go to
``OUTDIR/steps/<step>.npz`` (written outside the timed region).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child_process import rss_high_water, time_steps, uncal_in  # noqa: E402
from detector1_vs_jwst_compare import arrays_of  # noqa: E402
from detector1_vs_jwst_setup import DETECTORS, pipeline_order, step_parameters  # noqa: E402


def main(argv: list[str]) -> int:
    key, folder, outdir = argv[:3]
    save_steps = "--save-steps" in argv
    exp = DETECTORS[key]
    os.makedirs(os.path.join(outdir, "steps"), exist_ok=True)
    logging.basicConfig(filename=os.path.join(outdir, "jwst.log"), filemode="w", level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from jwst.pipeline import Detector1Pipeline

    pipe = Detector1Pipeline(steps=step_parameters(exp, folder))
    products: dict = {}

    def keep(name, result):
        label = name
        if name == "gain_scale":
            label = "gain_scale" if "gain_scale" not in products else "gain_scale_ints"
            products[label] = arrays_of(result)
        if save_steps:
            np.savez(os.path.join(outdir, "steps", f"{label}.npz"), **arrays_of(result))

    record = time_steps(pipe, pipeline_order(exp), keep)
    t0 = time.perf_counter()
    pipe.run(uncal_in(folder))
    record["time"]["total"] = time.perf_counter() - t0
    record["peak_rss"] = rss_high_water()
    np.savez(os.path.join(outdir, "rate.npz"), **products.get("gain_scale", {}))
    print("RESULT" + json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
