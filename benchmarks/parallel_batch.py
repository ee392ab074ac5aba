"""Speed-up and peak memory of a batch of inputs on 2 cores (2 jobs) against 1 (1 job).

Usage::

    python benchmarks/parallel_batch.py                      # 4 inputs of 20 integrations
    python benchmarks/parallel_batch.py --inputs 4 --nints 20 --jobs 1 2 --repeat 3

The inputs are the demo exposures of the built-in steps (NIRCam NRCA1 SUB160, 10
RAPID groups), repeated along the integration axis to ``--nints`` integrations, and
calibrated by ``calwebb_detector1`` with the embedded offline reference set, through
``pipeline_core.batch.runner.run_batch(..., jobs=N)``. ``jobs=1`` runs the inputs one after
the other in the main process; ``jobs=2`` runs them in a pool of 2 worker processes
started for the batch (included in the time). Each jobs value runs in a fresh
process, ``--repeat`` times (each into a new output folder). Reported: the median and
minimum wall time, the speed-up of the median against the 1-job run of the same
invocation, the peak memory of the whole process tree (main process + fork server +
workers, PSS) above the main process before the batch, the ratio of that peak to the
1-job one, whether every product is identical to the 1-job ones, and the load, and
"2-proc": the speed-up of two copies of a pure-CPU loop run at the same moment, which
is what the machine offers then (2.00x on an idle 2-core machine; less when other
work occupies the cores) and bounds any 2-core speed-up measured alongside.
"""

from __future__ import annotations

import argparse
import glob
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


def make_inputs(folder: str, count: int, nints: int) -> list[str]:
    """Write `count` raw exposures of `nints` integrations; return their paths."""
    from builtin_steps.refdata.demo import prepare_demo
    from pipeline_core.datamodels import open_model

    demo = prepare_demo(os.path.join(folder, "demo"))
    paths = []
    for number in range(1, count + 1):
        with open_model(demo["inputs"][(number - 1) % len(demo["inputs"])]) as model:
            repeats = -(-nints // model.data.shape[0])
            for name in ("data", "groupdq", "err"):
                array = getattr(model, name)
                setattr(model, name, np.concatenate([array] * repeats)[:nints])
            model.meta.exposure.nints = nints
            name = f"jw09999001001_01101_{number:05d}_nrca1_uncal.fits"
            paths.append(model.save(os.path.join(folder, name)))
    return paths


def _digest(folder: str) -> str:
    from pipeline_core.datamodels import open_model

    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(folder, "*_rate*.fits"))):
        with open_model(path) as model:
            for name in ("data", "dq", "err"):
                digest.update(np.ascontiguousarray(getattr(model, name)).tobytes())
    return digest.hexdigest()[:16]


def run_one(jobs: int, count: int, nints: int, repeat: int) -> dict:
    """Measure the batch with `jobs` jobs in this (fresh) process."""
    from pipeline_core.batch.runner import run_batch

    with tempfile.TemporaryDirectory(prefix="bench_parallel_batch_") as folder:
        inputs = make_inputs(folder, count, nints)
        before = tree_pss_mib()
        times, peaks, digests = [], [], set()
        for attempt in range(repeat):
            output_dir = os.path.join(folder, f"out{attempt}")
            with PeakSampler() as sampler:
                started = time.perf_counter()
                report = run_batch("calwebb_detector1", inputs, jobs=jobs, output_dir=output_dir)
                times.append(time.perf_counter() - started)
            if not report.succeeded:
                raise RuntimeError(report.summary())
            peaks.append(sampler.peak - before)
            digests.add(_digest(output_dir))
        input_mib = sum(os.path.getsize(p) for p in inputs) / 2**20
    return {
        "jobs": jobs,
        "median": statistics.median(times),
        "min": min(times),
        "peak_mib": max(peaks),
        "digest": digests.pop() if len(digests) == 1 else "differs between repeats",
        "input_mib": input_mib,
        "load": load(),
        "cpu_scaling": cpu_scaling(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every jobs value in a fresh process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=4)
    parser.add_argument("--nints", type=int, default=20)
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.inputs, args.nints, args.repeat)))
        return 0
    rows = []
    for jobs in args.jobs:
        command = [sys.executable, os.path.abspath(__file__), "--one", str(jobs), "--inputs",
                   str(args.inputs), "--nints", str(args.nints), "--repeat", str(args.repeat)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = rows[0]
    print(f"batch of {args.inputs} calwebb_detector1 inputs, NIRCam SUB160 {args.nints} "
          f"integrations x 10 groups ({base['input_mib']:.0f} MiB of input files), "
          f"{args.repeat} runs each, CPUs {os.cpu_count()}")
    print(f"{'jobs':>4} {'median s':>9} {'min s':>7} {'speed-up':>9} {'peak MiB':>9} {'mem x':>6} "
          f"{'same':>5} {'load':>5} {'2-proc':>7}")
    for row in rows:
        print(f"{row['jobs']:>4} {row['median']:>9.2f} {row['min']:>7.2f} "
              f"{base['median'] / row['median']:>8.2f}x {row['peak_mib']:>9.0f} "
              f"{row['peak_mib'] / base['peak_mib']:>5.2f}x {str(row['digest'] == base['digest']):>5} "
              f"{row['load']:>5.2f} {row['cpu_scaling']:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
