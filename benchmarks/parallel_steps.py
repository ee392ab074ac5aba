"""Speed-up and peak memory of the parallel steps (jump, ramp_fit) on 2 cores against 1.

Usage::

    python benchmarks/parallel_steps.py                       # 1x10x2048^2, 7 rounds
    python benchmarks/parallel_steps.py --shape 2 20 2048 --repeat 5 --cores 1 2

The steps run on the same seeded synthetic ramps (a random count rate, Poisson and
read noise, cosmic rays; GROUPDQ and PIXELDQ set, as after dq_init and saturation)
with constant gain and read-noise reference files (``override_gain`` /
``override_readnoise``), called as a user calls them:
``Step.call(model, maximum_cores=N, ...)``.

Time: every round runs, for each step, one fresh process per core count, one after
the other (the order alternates from round to round), so that the configurations
compared meet nearly the same conditions: the cores of a virtual machine are not
always all there (another machine on the same host can hold one for a while). Each
process makes one untimed call (it starts the worker pool, which later calls reuse;
reported as "first s") and times ``--calls`` more. Reported: the median over the
rounds of each process's median time, the speed-up of those medians against the first
core count, the median of the per-round ratios ("pair med"), and "offered": the
speed-up two copies of a pure-CPU loop got at the start of each round (median; 2.00x
with a free second core), a sign of how much of its second core a virtual machine
gave at the time.

Memory: each (step, cores) runs in a fresh process, once to start the pool and once
measured: the peak memory of the whole process tree (main process, fork server,
workers; PSS) above the main process before the first call, its ratio to the first
core count's, and whether the outputs are identical to its ("same").
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
from parallel_common import PeakSampler, cpu_scaling, tree_pss_mib  # noqa: E402


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
    # GROUPDQ and PIXELDQ set, as in a ramp that went through dq_init and saturation
    model = RampModel(
        data=data,
        groupdq=np.zeros(data.shape, dtype=np.uint8),
        pixeldq=np.zeros(data.shape[-2:], dtype=np.uint32),
    )
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


def _call(step_class, model, params: dict, cores: int) -> float:
    started = time.perf_counter()
    result = step_class.call(model, maximum_cores=str(cores), **params)
    elapsed = time.perf_counter() - started
    del result
    return elapsed


def _prepared(step_name: str, shape: list[int], folder: str):
    """The step class, its input ramp (with the cosmic-ray flags for ramp_fit) and references."""
    from pipeline_core import registry

    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    model, flags, refs = make_exposure(*shape, folder)
    if step_name == "ramp_fit":
        model.groupdq = flags
    return registry().resolve(step_name), model, refs


def run_timing(step_name: str, shape: list[int], cores: int, calls: int) -> dict:
    """Time `calls` calls of the step on `cores` cores, after one untimed call, here."""
    with tempfile.TemporaryDirectory(prefix="bench_parallel_steps_") as folder:
        step_class, model, refs = _prepared(step_name, shape, folder)
        first = _call(step_class, model, refs, cores)  # starts the pool
        times = [_call(step_class, model, refs, cores) for _ in range(calls)]
    return {"first": first, "times": times, "input_mib": model.data.nbytes / 2**20}


def run_memory(step_name: str, shape: list[int], cores: int) -> dict:
    """Peak memory and result digest of one call on `cores` cores, in this (fresh) process."""
    with tempfile.TemporaryDirectory(prefix="bench_parallel_steps_") as folder:
        step_class, model, refs = _prepared(step_name, shape, folder)
        params = {"maximum_cores": str(cores), **refs}
        before = tree_pss_mib()
        result = step_class.call(model, **params)  # starts the pool
        digest = _digest(result)
        del result
        with PeakSampler() as sampler:
            result = step_class.call(model, **params)
        del result
    return {"step": step_name, "cores": cores, "peak_mib": sampler.peak - before, "digest": digest}


def _fresh(*args: str) -> dict:
    command = [sys.executable, os.path.abspath(__file__), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Time every step in fresh processes, round after round, measure its memory; print tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", nargs=3, type=int, default=[1, 10, 2048], metavar=("NINTS", "NGROUPS", "SIZE"))
    parser.add_argument("--steps", nargs="+", default=["jump", "ramp_fit"])
    parser.add_argument("--cores", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeat", type=int, default=7, help="rounds (one fresh process per core count each)")
    parser.add_argument("--calls", type=int, default=3, help="timed calls in each process")
    parser.add_argument("--timing", nargs=2, metavar=("STEP", "CORES"), help=argparse.SUPPRESS)
    parser.add_argument("--memory", nargs=2, metavar=("STEP", "CORES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.timing:
        print(json.dumps(run_timing(args.timing[0], args.shape, int(args.timing[1]), args.calls)))
        return 0
    if args.memory:
        print(json.dumps(run_memory(args.memory[0], args.shape, int(args.memory[1]))))
        return 0
    shape = [*map(str, args.shape)]
    base = args.cores[0]
    runs: dict[tuple[str, int], list[dict]] = {(s, c): [] for s in args.steps for c in args.cores}
    offered = []
    for index in range(args.repeat):
        offered.append(cpu_scaling())
        for step in args.steps:
            for c in args.cores if index % 2 == 0 else args.cores[::-1]:
                runs[(step, c)].append(_fresh(
                    "--timing", step, str(c), "--shape", *shape, "--calls", str(args.calls)
                ))
    memory = {(s, c): _fresh("--memory", s, str(c), "--shape", *shape)
              for s in args.steps for c in args.cores}
    nints, ngroups, size = args.shape
    mib = runs[(args.steps[0], base)][0]["input_mib"]
    print(f"ramps {nints}x{ngroups}x{size}x{size} float32 ({mib:.0f} MiB), CPUs {os.cpu_count()}; "
          f"{args.repeat} rounds, each a fresh process per core count (alternating order) "
          f"timing {args.calls} calls after one untimed call; 'offered': what two copies of a "
          "pure-CPU loop got, once per round (2.00x = a free second core)")
    print(f"{'step':9} {'cores':>5} {'first s':>8} {'median s':>9} {'speed-up':>9} "
          f"{'pair med':>9} {'offered':>8} {'peak MiB':>9} {'mem x':>6} {'same':>5}")
    for step in args.steps:
        per_round = {c: [statistics.median(r["times"]) for r in runs[(step, c)]] for c in args.cores}
        base_median = statistics.median(per_round[base])
        for c in args.cores:
            median = statistics.median(per_round[c])
            pairs = statistics.median(a / b for a, b in zip(per_round[base], per_round[c]))
            first = statistics.median(r["first"] for r in runs[(step, c)])
            mem, mem_base = memory[(step, c)], memory[(step, base)]
            print(f"{step:9} {c:>5} {first:>8.2f} {median:>9.3f} "
                  f"{base_median / median:>8.2f}x {pairs:>8.2f}x "
                  f"{statistics.median(offered):>7.2f}x {mem['peak_mib']:>9.0f} "
                  f"{mem['peak_mib'] / mem_base['peak_mib']:>5.2f}x "
                  f"{str(mem['digest'] == mem_base['digest']):>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
