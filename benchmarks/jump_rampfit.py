"""Time and peak memory of the jump and ramp_fit steps on full-frame ramps.

Usage::

    python benchmarks/jump_rampfit.py                 # 1x10x2048^2 and 2x20x2048^2
    python benchmarks/jump_rampfit.py --sizes 1x10x2048 --repeat 5 --workers 1 2

Every measurement runs in a fresh process (so peak memory is that of one
step), on synthetic ramps (a random count rate, Poisson and read noise, a few
cosmic rays) with matching gain and read-noise reference files written to a
temporary folder.  The step is called as a user would call it
(``JumpStep(...).run(model)``), so the times include the step's own work
around the kernel (reference files, copies, neighbour flagging).  Reported:
the median wall time over ``--repeat`` runs, the peak resident memory of the
process minus its size before the step ran, and the machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_exposure(nints: int, ngroups: int, size: int, seed: int = 0):
    """Build a RampModel, the JUMP_DET flags of its cosmic rays, and gain and
    read-noise reference files (in a temporary folder).

    The model's own GROUPDQ is left clear (the input of the jump step).
    """
    from pipeline_core.datamodels import GainModel, RampModel, ReadnoiseModel

    rng = np.random.default_rng(seed)
    group_time = 10.737
    gain, readnoise = 2.0, 10.0
    rate = rng.uniform(0.5, 100.0, (size, size)).astype(np.float32)
    data = np.empty((nints, ngroups, size, size), dtype=np.float32)
    groupdq = np.zeros(data.shape, dtype=np.uint8)
    for i in range(nints):
        signal = np.zeros((size, size), dtype=np.float32)
        for g in range(ngroups):
            mean = rate * group_time
            signal += mean + np.sqrt(mean / gain) * rng.standard_normal((size, size), dtype=np.float32)
            noise = rng.standard_normal((size, size), dtype=np.float32) * np.float32(readnoise / np.sqrt(2))
            data[i, g] = signal + noise + 1000.0
        hits = rng.random((ngroups, size, size)) < 2e-4
        data[i] += np.cumsum(hits * np.float32(500.0), axis=0, dtype=np.float32)
        groupdq[i][hits] = 4  # JUMP_DET where the cosmic ray arrived
    model = RampModel(data=data)
    meta = model.meta
    meta.instrument.name, meta.instrument.detector = "NIRCAM", "NRCA3"
    meta.exposure.nints, meta.exposure.ngroups, meta.exposure.nframes = nints, ngroups, 1
    meta.exposure.group_time = meta.exposure.frame_time = group_time
    meta.subarray.xstart = meta.subarray.ystart = 1
    meta.subarray.xsize = meta.subarray.ysize = size
    folder = tempfile.mkdtemp(prefix="bench_jump_rampfit_")
    refs = {}
    for reftype, cls, value in (("gain", GainModel, gain), ("readnoise", ReadnoiseModel, readnoise)):
        ref = cls(data=np.full((size, size), value, dtype=np.float32))
        ref.meta.reftype = reftype.upper()
        path = os.path.join(folder, f"{reftype}.fits")
        ref.save(path)
        refs[f"override_{reftype}"] = path
    return model, groupdq, refs


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def run_one(step_name: str, nints: int, ngroups: int, size: int, workers: int, repeat: int) -> dict:
    """Measure one configuration in this process; returns a JSON-able dict."""
    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    from builtin_steps.jump.step import JumpStep
    from builtin_steps.ramp_fit.step import RampFitStep

    model, groupdq, refs = make_exposure(nints, ngroups, size)
    cls = JumpStep if step_name == "jump" else RampFitStep
    step = cls(maximum_cores=str(workers), **refs)
    if step_name == "ramp_fit":  # a ramp with its cosmic rays flagged, as after jump
        model.groupdq = groupdq
    step.run(model)  # warm-up: imports, worker start-up, page faults
    before = _rss_mib()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step.run(model)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    shutil.rmtree(os.path.dirname(refs["override_gain"]), ignore_errors=True)
    return {
        "step": step_name,
        "shape": f"{nints}x{ngroups}x{size}^2",
        "workers": workers,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "peak_extra_mib": peak - before,
        "ramp_mib": model.data.nbytes / 2**20,
        "load": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    """Run every configuration in a fresh process and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1x10x2048", "2x20x2048"],
                        help="NINTSxNGROUPSxSIZE (square frames)")
    parser.add_argument("--steps", nargs="+", default=["jump", "ramp_fit"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        step, nints, ngroups, size, workers = args.one.split(",")
        print(json.dumps(run_one(step, int(nints), int(ngroups), int(size), int(workers), args.repeat)))
        return 0
    print(f"{'step':9} {'shape':14} {'workers':>7} {'median s':>9} {'min s':>7} "
          f"{'peak+ MiB':>9} {'ramp MiB':>8} {'load':>5}")
    for size in args.sizes:
        nints, ngroups, npix = (int(v) for v in size.split("x"))
        for step in args.steps:
            for workers in args.workers:
                spec = f"{step},{nints},{ngroups},{npix},{workers}"
                out = subprocess.run(
                    [sys.executable, __file__, "--one", spec, "--repeat", str(args.repeat)],
                    capture_output=True, text=True, check=False,
                )
                if out.returncode:
                    print(f"{step:9} {size:14} {workers:>7} FAILED: {out.stderr.strip()[-300:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{r['step']:9} {r['shape']:14} {r['workers']:>7} {r['median_s']:>9.2f} "
                      f"{r['min_s']:>7.2f} {r['peak_extra_mib']:>9.0f} {r['ramp_mib']:>8.0f} {r['load']:>5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
