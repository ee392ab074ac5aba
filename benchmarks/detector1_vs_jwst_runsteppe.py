"""Run steppe's Detector1Pipeline on one synthetic exposure: timed, or step by step against jwst.

``run KEY FOLDER OUTDIR``: the pipeline runs as a user runs it, with each step's
``run`` wrapped to record its wall time and the peak resident memory
(``VmHWM``) after it; the rate product's arrays go to ``OUTDIR/rate.npz``.

``diagnose KEY FOLDER JWSTDIR``: the steps run one by one in the pipeline's
order on steppe's own ramp (*chained*: the differences a step's output has
accumulated from all steps so far) and, separately, on a copy whose arrays are
replaced by jwst's output of the previous step (*isolated*: the differences this
step alone makes). Both are compared with jwst's output of the step, read from
``JWSTDIR/steps/<step>.npz``.

Each prints one ``RESULT`` line (JSON).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child_process import rss_high_water, status_of, time_steps, uncal_in  # noqa: E402
from detector1_vs_jwst_compare import arrays_of, compare_products  # noqa: E402
from detector1_vs_jwst_setup import DETECTORS, pipeline_order, step_parameters  # noqa: E402


def _pipeline(key: str, folder: str):
    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    from builtin_steps.pipelines import Detector1Pipeline

    exp = DETECTORS[key]
    return exp, Detector1Pipeline(steps=step_parameters(exp, folder))


def run(key: str, folder: str, outdir: str) -> dict:
    """Time the pipeline on the exposure; save the rate arrays."""
    exp, pipe = _pipeline(key, folder)
    os.makedirs(outdir, exist_ok=True)
    products: dict = {}

    def keep(name, result):
        if name == "gain_scale":
            products["gain_scale_ints" if "gain_scale" in products else "gain_scale"] = arrays_of(result)

    record = time_steps(pipe, pipeline_order(exp), keep)
    t0 = time.perf_counter()
    pipe.run(uncal_in(folder))
    record["time"]["total"] = time.perf_counter() - t0
    record["peak_rss"] = rss_high_water()
    np.savez(os.path.join(outdir, "rate.npz"), **products.get("gain_scale", {}))
    return record


def _load(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _with_arrays(model, arrays: dict[str, np.ndarray]):
    """A copy of a steppe model holding jwst's arrays (prefixes ``rate_`` dropped)."""
    copy = model.copy()
    for name, value in arrays.items():
        setattr(copy, name, value.copy())
    return copy


def diagnose(key: str, folder: str, jwst_dir: str) -> dict:
    """Compare every step's output with jwst's, chained and isolated."""
    from pipeline_core.datamodels import open_model

    exp, pipe = _pipeline(key, folder)
    steps_dir = os.path.join(jwst_dir, "steps")
    model = open_model(uncal_in(folder))
    report: dict = {}
    previous: dict | None = None  # jwst's output of the previous step
    for name in pipeline_order(exp):
        step = getattr(pipe, name)
        if name == "gain_scale":
            theirs = _load(os.path.join(steps_dir, "gain_scale.npz"))
            theirs_ints = _load(os.path.join(steps_dir, "gain_scale_ints.npz"))
            rate, ints = model
            iso_rate = _with_arrays(rate, {k[5:]: v for k, v in previous.items() if k.startswith("rate_")})
            iso_ints = _with_arrays(ints, {k[9:]: v for k, v in previous.items() if k.startswith("rateints_")})
            chained = {**arrays_of(step.run(rate)), **{f"ints_{k}": v for k, v in arrays_of(step.run(ints)).items()}}
            isolated = {**arrays_of(step.run(iso_rate)),
                        **{f"ints_{k}": v for k, v in arrays_of(step.run(iso_ints)).items()}}
            theirs = {**theirs, **{f"ints_{k}": v for k, v in theirs_ints.items()}}
            status = status_of(rate, name)
        else:
            theirs = _load(os.path.join(steps_dir, f"{name}.npz"))
            if previous is None:
                isolated_in = model.copy()
            else:
                isolated_in = _with_arrays(model, previous)
            iso_result = step.run(isolated_in)
            isolated = arrays_of(iso_result)
            del iso_result, isolated_in
            model = step.run(model)
            chained = arrays_of(model)
            status = status_of(model, name)
        report[name] = {
            "status": status,
            "chained": compare_products(chained, theirs),
            "isolated": compare_products(isolated, theirs),
        }
        print(f"{name}: done", file=sys.stderr, flush=True)
        previous = theirs
    return report


def main(argv: list[str]) -> int:
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 <pid>: where is it?
    mode, key, folder, other = argv[:4]
    result = run(key, folder, other) if mode == "run" else diagnose(key, folder, other)
    print("RESULT" + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
