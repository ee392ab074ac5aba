"""Benchmark of Detector1Pipeline on synthetic full-frame ramps.

For each size (default 1x10x2048x2048 and 2x20x2048x2048) the script writes a
synthetic NIRCam uncal file and matching full-frame reference files to a work
folder, then, in a fresh process per repetition, runs the ten steps of the
stage one after the other and records each step's wall time, the process's
peak resident memory so far after each step (``VmHWM``, on Linux; the step at
which it rises is the one that sets the peak) and the peak memory of numpy
allocations during the step (``tracemalloc``, in a separate repetition so
that tracing does not slow the timed runs). Medians are printed as a table,
with the ratio to the JWST pipeline's figures.

The JWST figures come from running ``jwst`` 3.0.0 on this machine (1x10x2048^2:
Detector1 about 18 s and 2.7 GiB peak, jump about 10 s, ramp_fit about 3.6 s).
When the ``jwst`` package is installed in another environment, set
``STEPPE_JWST_PYTHON`` to that environment's ``python`` and the script runs
``calwebb_detector1`` there on the same files (same references, as overrides)
and uses the measured times instead.

Run::

    python benchmarks/detector1.py                     # both sizes, 3 repetitions
    python benchmarks/detector1.py --sizes 1x10 --repeat 5 --workdir /tmp/d1bench
    python benchmarks/detector1.py --maximum-cores all  # jump and ramp_fit on all cores
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from builtin_steps.pipelines.detector1 import STEP_ORDER

STEPS = STEP_ORDER  # the stage's steps, in the order they run

#: JWST 3.0.0 on this 2-core machine, 1 x 10 x 2048 x 2048 (seconds, GiB).
JWST_REFERENCE = {"total": 18.0, "jump": 10.0, "ramp_fit": 3.6, "peak_gib": 2.7}

GIB = 1024**3


# ----------------------------------------------------------------------------- data
def make_inputs(workdir: Path, nints: int, ngroups: int, size: int = 2048, seed: int = 7) -> dict:
    """Write a synthetic uncal ramp and full-frame references; return their paths."""
    from pipeline_core.datamodels import (
        DarkModel,
        GainModel,
        LinearityModel,
        MaskModel,
        ReadnoiseModel,
        SaturationModel,
        SuperBiasModel,
    )

    workdir.mkdir(parents=True, exist_ok=True)
    tag = f"{nints}x{ngroups}x{size}"
    uncal = workdir / f"bench_{tag}_nrca1_uncal.fits"
    refs = {k: workdir / f"ref_{k}_{size}.fits" for k in ("mask", "saturation", "superbias", "linearity", "gain", "readnoise")}
    # a dark with as many frames as the readout needs (dark_current reads it group by group)
    refs["dark"] = workdir / f"ref_dark_{ngroups}x{size}.fits"
    rng = np.random.default_rng(seed)
    shape2 = (size, size)
    if not all(p.exists() for p in refs.values()):
        border = np.zeros(shape2, np.uint32)
        border[:4] = border[-4:] = 1 << 31
        border[:, :4] = border[:, -4:] = 1 << 31
        _save(MaskModel(dq=border), refs["mask"], "MASK")
        _save(SaturationModel(data=np.full(shape2, 60000.0, np.float32), dq=np.zeros(shape2, np.uint32)), refs["saturation"], "SATURATION")
        bias = rng.normal(10000, 50, shape2).astype(np.float32)
        _save(SuperBiasModel(data=bias, dq=np.zeros(shape2, np.uint32), err=np.zeros(shape2, np.float32)), refs["superbias"], "SUPERBIAS")
        coeffs = np.zeros((3, *shape2), np.float32)
        coeffs[1] = 1.0
        coeffs[2] = 1e-7
        _save(LinearityModel(coeffs=coeffs, dq=np.zeros(shape2, np.uint32)), refs["linearity"], "LINEARITY")
        _save(GainModel(data=np.full(shape2, 2.0, np.float32)), refs["gain"], "GAIN")
        _save(ReadnoiseModel(data=np.full(shape2, 7.0, np.float32)), refs["readnoise"], "READNOISE")
    if not refs["dark"].exists():
        dark = DarkModel(data=np.full((ngroups, *shape2), 0.01, np.float32), dq=np.zeros(shape2, np.uint32))
        dark.meta.exposure.nframes, dark.meta.exposure.groupgap, dark.meta.exposure.ngroups = 1, 0, ngroups
        _save(dark, refs["dark"], "DARK")
        del dark
    if not uncal.exists():
        bias = SuperBiasModel(str(refs["superbias"])).data
        _write_level1b(uncal, bias, rng, nints=nints, ngroups=ngroups)
    return {"uncal": str(uncal), "refs": {k: str(v) for k, v in refs.items()}}


def _write_level1b(path: Path, bias: np.ndarray, rng: np.random.Generator, *, nints: int, ngroups: int) -> None:
    """Write a raw ramp as archive uncal files store it: uint16 SCI, no DQ arrays."""
    from astropy.io import fits

    size = bias.shape[0]
    tgroup = 10.737
    rate = rng.gamma(2.0, 5.0, bias.shape).astype(np.float32)
    data = np.empty((nints, ngroups, size, size), np.uint16)
    for i in range(nints):
        signal = np.zeros(bias.shape, np.float32)
        hits = rng.integers(0, size, (2, 2000))
        start = rng.integers(1, ngroups, 2000)
        for g in range(ngroups):
            signal += rate * tgroup
            signal[hits[0][start == g], hits[1][start == g]] += 500.0
            frame = bias + signal + rng.normal(0, 5, bias.shape).astype(np.float32)
            data[i, g] = np.clip(np.round(frame), 0, 65535).astype(np.uint16)
    primary = fits.PrimaryHDU()
    keys = {
        "DATAMODL": "Level1bModel", "TELESCOP": "JWST", "INSTRUME": "NIRCAM", "DETECTOR": "NRCA1",
        "EXP_TYPE": "NRC_IMAGE", "READPATT": "RAPID", "NINTS": nints, "NGROUPS": ngroups, "NFRAMES": 1,
        "GROUPGAP": 0, "FRMDIVSR": 1, "NOUTPUTS": 4, "TFRAME": tgroup, "TGROUP": tgroup,
        "DATE-OBS": "2024-01-01", "TIME-OBS": "00:00:00.000", "SUBARRAY": "FULL",
        "SUBSTRT1": 1, "SUBSTRT2": 1, "SUBSIZE1": size, "SUBSIZE2": size, "ZEROFRAM": False,
        "FASTAXIS": -1, "SLOWAXIS": 2, "DATE-END": "2024-01-01", "TIME-END": "00:10:00.000",
    }
    for key, value in keys.items():
        primary.header[key] = value
    sci = fits.ImageHDU(data, name="SCI")
    fits.HDUList([primary, sci]).writeto(path, overwrite=True)


def _save(model, path: Path, reftype: str) -> None:
    model.meta.reftype = reftype
    model.meta.instrument.name, model.meta.instrument.detector = "NIRCAM", "NRCA1"
    # Full-frame window keywords, as real reference files carry (JWST's steps need them).
    model.meta.subarray.name = "FULL"
    model.meta.subarray.xstart = model.meta.subarray.ystart = 1
    model.meta.subarray.xsize = model.meta.subarray.ysize = 2048
    model.save(str(path))


def step_overrides(refs: dict, maximum_cores: str) -> dict:
    """``steps=`` overrides pointing each step at the benchmark references."""
    noise = {"override_gain": refs["gain"], "override_readnoise": refs["readnoise"]}
    return {
        "dq_init": {"override_mask": refs["mask"]},
        "saturation": {"override_saturation": refs["saturation"]},
        "superbias": {"override_superbias": refs["superbias"]},
        "linearity": {"override_linearity": refs["linearity"]},
        "dark_current": {"override_dark": refs["dark"]},
        "jump": {**noise, "maximum_cores": maximum_cores},
        "ramp_fit": {**noise, "maximum_cores": maximum_cores},
        "gain_scale": {"override_gain": refs["gain"]},
    }


# ----------------------------------------------------------------------------- one run
def run_once(inputs: dict, maximum_cores: str, trace: bool) -> dict:
    """Run the stage step by step in this process; return per-step seconds / peak bytes."""
    import tracemalloc

    from builtin_steps.pipelines.detector1 import Detector1Pipeline
    from pipeline_core.datamodels import open_model

    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    pipe = Detector1Pipeline()
    for step, pars in step_overrides(inputs["refs"], maximum_cores).items():
        for name, value in pars.items():
            setattr(getattr(pipe, step), name, value)
    if trace:
        tracemalloc.start()
    out: dict = {"time": {}, "peak": {}}
    t0 = time.perf_counter()
    model = open_model(inputs["uncal"])
    out["time"]["open"] = time.perf_counter() - t0
    ramp_bytes = model.data.nbytes
    products = None
    overall = 0
    for name in STEPS:
        step = getattr(pipe, name)
        if trace:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        t = time.perf_counter()
        if name == "gain_scale":
            products = tuple(step.run(p) for p in products)
        else:
            result = step.run(model)
            if name == "ramp_fit":
                products = result if isinstance(result, tuple) else (result,)
                del model
                model = None
            else:
                model = result
        out["time"][name] = time.perf_counter() - t
        out.setdefault("hwm", {})[name] = _rss_high_water()
        if trace:
            peak = tracemalloc.get_traced_memory()[1]
            out["peak"][name] = peak - base
            overall = max(overall, peak)
    out["time"]["total"] = time.perf_counter() - t0
    if trace:
        out["peak"]["total"] = overall
        tracemalloc.stop()
    # VmHWM, not getrusage's ru_maxrss: on Linux ru_maxrss keeps the high-water mark
    # of the process image before exec (here, the forked benchmark driver holding
    # the synthetic inputs), which is not memory this run used.
    out["maxrss"] = _rss_high_water()
    if out["maxrss"] is None:  # not Linux
        import resource

        out["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["ramp_bytes"] = ramp_bytes
    return out


def _rss_high_water() -> int | None:
    """Peak resident memory of this process so far, in bytes (None off Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_in_subprocess(inputs: dict, maximum_cores: str, trace: bool) -> dict:
    """Run :func:`run_once` in a fresh interpreter (clean peak RSS)."""
    code = (
        "import json, sys; sys.path.insert(0, %r); import detector1 as b; "
        "print('RESULT' + json.dumps(b.run_once(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3] == '1')))"
    ) % str(Path(__file__).parent)
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(inputs), maximum_cores, "1" if trace else "0"],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark run failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def run_jwst(python: str, inputs: dict, workdir: Path, save_results: bool = False) -> float | None:
    """Time JWST's calwebb_detector1 on the same input, in another environment.

    With `save_results`, its rate and rateints products are written to `workdir`.
    """
    refs = inputs["refs"]
    overrides = {
        "dq_init": {"override_mask": refs["mask"]},
        "saturation": {"override_saturation": refs["saturation"]},
        "superbias": {"override_superbias": refs["superbias"]},
        "linearity": {"override_linearity": refs["linearity"]},
        "dark_current": {"override_dark": refs["dark"]},
        "jump": {"override_gain": refs["gain"], "override_readnoise": refs["readnoise"]},
        "ramp_fit": {"override_gain": refs["gain"], "override_readnoise": refs["readnoise"]},
        "gain_scale": {"override_gain": refs["gain"]},
        "ipc": {"skip": True}, "persistence": {"skip": True}, "charge_migration": {"skip": True},
        "emicorr": {"skip": True}, "reset": {"skip": True}, "rscd": {"skip": True},
        "firstframe": {"skip": True}, "lastframe": {"skip": True}, "clean_flicker_noise": {"skip": True},
    }
    # JWST 3.x steps take a RampModel; the raw file is a level-1b ramp, converted
    # inside the timed region as the pipeline's own input handling would.
    code = (
        "import json, sys, time\n"
        "import numpy as np\n"
        "from jwst import datamodels\n"
        "from jwst.pipeline import Detector1Pipeline as P\n"
        "t = time.perf_counter()\n"
        "with datamodels.Level1bModel(sys.argv[1]) as raw:\n"
        "    ramp = datamodels.RampModel(data=raw.data.astype(np.float32))\n"
        "    ramp.update(raw)\n"
        "P.call(ramp, steps=json.loads(sys.argv[2]), output_dir=sys.argv[3],\n"
        "       save_results=sys.argv[4] == '1')\n"
        "print('RESULT', time.perf_counter() - t)\n"
        "import resource\n"
        "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    env = dict(os.environ, CRDS_SERVER_URL="https://jwst-serverless-mode.stsci.edu", STPIPE_DISABLE_CRDS_STEPPARS="1")
    if "CRDS_PATH" not in env:  # JWST needs a CRDS cache for its context, even with overrides
        from builtin_steps.refdata.cache import ensure_embedded_cache

        env["CRDS_PATH"] = ensure_embedded_cache()
    proc = subprocess.run([python, "-c", code, inputs["uncal"], json.dumps(overrides), str(workdir),
                           "1" if save_results else "0"],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        print(f"jwst run failed ({python}):\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    seconds = float(proc.stdout.split("RESULT")[-1].split()[0])
    peak_gib = int(proc.stdout.split("PEAK_KIB")[-1].split()[0]) / 2**20
    print(f"jwst calwebb_detector1: {seconds:.2f} s, peak RSS {peak_gib:.2f} GiB", file=sys.stderr)
    return seconds


# ----------------------------------------------------------------------------- report
def report(tag: str, timed: list[dict], traced: dict, jwst_total: float | None) -> str:
    """Format the per-step table of one size."""
    ramp_gib = traced["ramp_bytes"] / GIB
    rows = [f"\n## {tag}  (float32 ramp {ramp_gib:.2f} GiB, {len(timed)} timed runs, medians)",
            f"{'step':<14}{'time s':>9}{'RSS high-water GiB':>20}{'peak alloc GiB':>16}"]
    for name in ("open", *STEPS, "total"):
        t = statistics.median(r["time"][name] for r in timed)
        marks = [r.get("hwm", {}).get(name) for r in timed]
        hwm = statistics.median(marks) if marks and None not in marks else None
        peak = traced["peak"].get(name)
        rows.append(
            f"{name:<14}{t:>9.3f}{'' if hwm is None else f'{hwm / GIB:>20.3f}':>20}"
            f"{'' if peak is None else f'{peak / GIB:>16.3f}'}"
        )
    total = statistics.median(r["time"]["total"] for r in timed)
    rss = statistics.median(r["maxrss"] for r in timed) / GIB
    rows.append(f"peak RSS of the whole run: {rss:.2f} GiB = {rss / ramp_gib:.2f} x the float32 ramp; "
                f"peak numpy allocations {traced['peak']['total'] / GIB:.2f} GiB")
    if jwst_total is not None:
        rows.append(f"JWST calwebb_detector1 (measured here): {jwst_total:.2f} s -> speed-up {jwst_total / total:.1f}x")
    elif tag.startswith("1x10x2048"):
        ref = JWST_REFERENCE
        jump = statistics.median(r["time"]["jump"] for r in timed)
        fit = statistics.median(r["time"]["ramp_fit"] for r in timed)
        rows.append(
            f"vs JWST 3.0.0 figures: Detector1 {ref['total']:.1f} s -> {ref['total'] / total:.1f}x faster; "
            f"jump {ref['jump']:.1f} s -> {ref['jump'] / jump:.1f}x; ramp_fit {ref['ramp_fit']:.1f} s -> "
            f"{ref['ramp_fit'] / fit:.1f}x; peak {ref['peak_gib']:.1f} GiB -> {ref['peak_gib'] / rss:.1f}x less"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1x10,2x20", help="comma-separated NINTSxNGROUPS[xSIZE] (default: 1x10,2x20)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size (default 3)")
    parser.add_argument("--workdir", default=None, help="folder for the synthetic files (default: a temp folder)")
    parser.add_argument("--maximum-cores", default="none", help="maximum_cores of jump and ramp_fit (default none)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="steppe_d1bench_"))
    jwst_python = os.environ.get("STEPPE_JWST_PYTHON")
    for spec in args.sizes.split(","):
        parts = [int(p) for p in spec.lower().split("x")]
        nints, ngroups, size = (parts + [2048])[:3]
        tag = f"{nints}x{ngroups}x{size}^2"
        inputs = make_inputs(workdir, nints, ngroups, size)
        timed = [run_in_subprocess(inputs, args.maximum_cores, trace=False) for _ in range(args.repeat)]
        traced = run_in_subprocess(inputs, args.maximum_cores, trace=True)
        jwst_total = run_jwst(jwst_python, inputs, workdir) if jwst_python else None
        print(report(tag, timed, traced, jwst_total), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
