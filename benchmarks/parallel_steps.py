"""Speed-up and peak memory of the parallel steps (jump, ramp_fit) on 2 cores against 1.

Usage::

    python benchmarks/parallel_steps.py                       # 1x10x2048^2, 5 repeats
    python benchmarks/parallel_steps.py --shape 2 20 2048 --repeat 3 --cores 1 2

Each (step, cores) pair runs in a fresh process on the same seeded synthetic ramps (a
random count rate, Poisson and read noise, cosmic rays) with constant gain and read
noise reference files (``override_gain`` / ``override_readnoise``). The step is called
as a user calls it, ``Step.call(model, maximum_cores=N, ...)``. One untimed call comes
first: it starts the worker pool, which later calls reuse (its time is reported as
"first s"). Reported: the median and minimum wall time of the timed calls, the
speed-up of the median against the 1-core run of the same invocation, the peak memory
of the whole process tree (main process + fork server + workers, PSS) above the main
process before the first call, the ratio of that peak to the 1-core one, whether the
outputs are identical to the 1-core ones, and the machine load, and
"2-proc": the speed-up of two copies of a pure-CPU loop run at the same moment, which
is what the machine offers then (2.00x on an idle 2-core machine; less when other
work occupies the cores) and bounds any 2-core speed-up measured alongside.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parallel_common import PeakSampler, cpu_scaling, load, tree_pss_mib  # noqa: E402


def make_exposure(nints: int, ngroups: int, size: int, folder: str, seed: int = 0):
    """Return (ramp model with clear GROUPDQ, GROUPDQ with the cosmic rays, refs)."""
    from pipeline_core.datamodels import GainModel, RampModel, ReadnoiseModel

    rng = np.random.default_rng(seed)
    group_time, gain, readnoise = 10.737, 2.0, 10.0
    rate = rng.uniform(0.5, 100.0, (size, size)).astype(np.float32)
    data = np.empty((nints, ngroups, size, size), dtype=np.float32)
    flags = np.zeros(data.shape, dtype=np.uint8)
    for integration in range(nints):
        electrons = rng.poisson(rate * gain * group_time, (ngroups, size, size)).astype(np.float32)
        ramp = np.cumsum(electrons / gain, axis=0)
        ramp += rng.normal(0.0, readnoise / np.sqrt(2.0), ramp.shape).astype(np.float32)
        hits = rng.random((ngroups, size, size)) < 2e-4
        hits[0] = False
        ramp += np.cumsum(hits * np.float32(800.0), axis=0)
        data[integration] = ramp + 12000.0
        flags[integration][hits] = 4
    model = RampModel(data=data)
    meta = model.meta
    meta.instrument.name, meta.instrument.detector = "NIRCAM", "NRCA1"
    meta.exposure.nints, meta.exposure.ngroups, meta.exposure.nframes = nints, ngroups, 1
    meta.exposure.group_time = meta.exposure.frame_time = group_time
    meta.exposure.readpatt = "RAPID"
    meta.subarray.name = "FULL"
    meta.subarray.xstart = meta.subarray.ystart = 1
    meta.subarray.xsize = meta.subarray.ysize = size
    refs = {}
    for reftype, cls, value in (("gain", GainModel, gain), ("readnoise", ReadnoiseModel, readnoise)):
        ref = cls(data=np.full((size, size), value, dtype=np.float32))
        ref.meta.reftype = reftype.upper()
        ref.meta.instrument.name, ref.meta.instrument.detector = "NIRCAM", "NRCA1"
        ref.meta.subarray.name = "FULL"
        ref.meta.subarray.xstart = ref.meta.subarray.ystart = 1
        ref.meta.subarray.xsize = ref.meta.subarray.ysize = size
        path = os.path.join(folder, f"{reftype}.fits")
        ref.save(path)
        refs[f"override_{reftype}"] = path
    return model, flags, refs


def _digest(result) -> str:
    models = result if isinstance(result, (tuple, list)) else [result]
    digest = hashlib.sha256()
    for model in models:
        if model is None:
            continue
        for name in ("data", "groupdq", "dq", "err", "var_poisson", "var_rnoise"):
            array = getattr(model, name, None)
            if isinstance(array, np.ndarray):
                digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def run_one(step_name: str, shape: list[int], cores: int, repeat: int) -> dict:
    """Measure one step on `cores` cores in this (fresh) process."""
    from pipeline_core import registry

    nints, ngroups, size = shape
    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    with tempfile.TemporaryDirectory(prefix="bench_parallel_steps_") as folder:
        model, flags, refs = make_exposure(nints, ngroups, size, folder)
        if step_name == "ramp_fit":
            model.groupdq = flags
        step_class = registry().resolve(step_name)
        params = {"maximum_cores": str(cores), **refs}
        before = tree_pss_mib()
        started = time.perf_counter()
        result = step_class.call(model, **params)
        first = time.perf_counter() - started
        digest = _digest(result)
        del result
        times, peaks = [], []
        for _ in range(repeat):
            with PeakSampler() as sampler:
                started = time.perf_counter()
                result = step_class.call(model, **params)
                times.append(time.perf_counter() - started)
            del result
            peaks.append(sampler.peak - before)
    return {
        "step": step_name,
        "cores": cores,
        "first": first,
        "median": statistics.median(times),
        "min": min(times),
        "peak_mib": max(peaks),
        "input_mib": model.data.nbytes / 2**20,
        "digest": digest,
        "load": load(),
        "cpu_scaling": cpu_scaling(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every (step, cores) pair in a fresh process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", nargs=3, type=int, default=[1, 10, 2048], metavar=("NINTS", "NGROUPS", "SIZE"))
    parser.add_argument("--steps", nargs="+", default=["jump", "ramp_fit"])
    parser.add_argument("--cores", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", nargs=2, metavar=("STEP", "CORES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one[0], args.shape, int(args.one[1]), args.repeat)))
        return 0
    rows = []
    for step in args.steps:
        for cores in args.cores:
            command = [sys.executable, os.path.abspath(__file__), "--one", step, str(cores),
                       "--shape", *map(str, args.shape), "--repeat", str(args.repeat)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    nints, ngroups, size = args.shape
    print(f"ramps {nints}x{ngroups}x{size}x{size} float32 ({rows[0]['input_mib']:.0f} MiB), "
          f"{args.repeat} timed calls after one untimed call, CPUs {os.cpu_count()}")
    print(f"{'step':9} {'cores':>5} {'first s':>8} {'median s':>9} {'min s':>7} {'speed-up':>9} "
          f"{'peak MiB':>9} {'mem x':>6} {'same':>5} {'load':>5} {'2-proc':>7}")
    for row in rows:
        base = next(r for r in rows if r["step"] == row["step"] and r["cores"] == args.cores[0])
        print(f"{row['step']:9} {row['cores']:>5} {row['first']:>8.2f} {row['median']:>9.2f} "
              f"{row['min']:>7.2f} {base['median'] / row['median']:>8.2f}x {row['peak_mib']:>9.0f} "
              f"{row['peak_mib'] / base['peak_mib']:>5.2f}x {str(row['digest'] == base['digest']):>5} "
              f"{row['load']:>5.2f} {row['cpu_scaling']:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
