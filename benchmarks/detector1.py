"""Benchmark of Detector1Pipeline.call() on synthetic full-frame NIRCam ramps.

For each size (default 1x10x2048x2048 and 2x8x2048x2048) the script writes a
synthetic NIRCam uncal file (uint16, as archive files store it) and matching
full-frame reference files to a work folder, then times
``Detector1Pipeline.call(uncal, save_results=True)``: reading the raw file, the
stage's steps (group_scale, dq_init, saturation, ipc, superbias, refpix,
linearity, dark_current, jump, ramp_fit, gain_scale; the others skip
themselves) and writing the rate and rateints products. Every run is a fresh
process (the modules are imported before the clock starts); the runs of one
round are:

* ``serial``: ``maximum_cores="none"`` (one core);
* ``2 cores``: ``maximum_cores`` = 2 for jump and ramp_fit (capped at the
  available cores): their kernels run on two threads, and the raw ramp is
  read on two;
* ``second call in the process``: the serial and 2-core processes then call
  the pipeline again on the same file, timed alone: the call once the
  libraries are loaded and the kernels are in memory;
* ``read + write only``: no step runs; a fresh process reads the raw file
  into the float32 ramp and saves rate and rateints products of the same
  shapes whose arrays are planes of that ramp, as the call does. It is the
  floor of a fresh call on the machine: most of it is the first touch of new
  memory (the ramp, the page cache of the products);
* ``first run``: one serial run per size with an empty numba cache
  (``NUMBA_CACHE_DIR`` set to a new folder), as after a fresh installation:
  the compilation of the kernels is in its time;
* ``jwst``: ``calwebb_detector1`` of jwst 3.0.0 on the same file and
  references, when ``STEPPE_JWST_PYTHON`` names the ``python`` of an
  environment where jwst is installed.

Memory is the peak proportional set size of the whole process tree (main
process, fork server and workers; shared memory counted once), sampled every
20 ms by a separate process (a sampling thread inside the timed process
doubled its time: it competes for the interpreter lock), as a ratio to the
float32 ramp. The table gives medians over the rounds,
the 1-minute load average before each round and the speed-up that two copies
of a pure-CPU loop got at the start of each round ("offered": 2.0 on an idle
2-core machine), which bounds what a parallel run could reach at that moment.
The products of the serial and 2-core runs are compared: they must be
identical. A last table gives the median time of jump, ramp_fit and the whole
call, serial and on 2 cores (the steps' times from their log lines). The tables are printed and written to ``results/detector1.md``
(``--output``).

Run::

    python benchmarks/detector1.py                                  # both sizes, 5 rounds
    python benchmarks/detector1.py --sizes 2x8 --rounds 7 --workdir /tmp/d1bench
    STEPPE_JWST_PYTHON=/work/jwst-env/bin/python python benchmarks/detector1.py
    python benchmarks/detector1.py --profile 2x8                    # cProfile of one serial call
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np



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
        "saturation": {"override_saturation": refs["saturation"], "override_superbias": refs["superbias"]},
        "superbias": {"override_superbias": refs["superbias"]},
        "linearity": {"override_linearity": refs["linearity"]},
        "dark_current": {"override_dark": refs["dark"]},
        "jump": {**noise, "maximum_cores": maximum_cores},
        "ramp_fit": {**noise, "maximum_cores": maximum_cores},
        "gain_scale": {"override_gain": refs["gain"]},
    }


# ----------------------------------------------------------------------------- one run
def run_call(inputs: dict, maximum_cores: str, outdir: str, again: bool = False) -> dict:
    """Time one ``Detector1Pipeline.call`` in this process (modules imported first).

    With `again`, a second call on the same input follows, timed on its own
    (``again_seconds``): what the call costs once the libraries are loaded.
    """
    from builtin_steps.pipelines.detector1 import Detector1Pipeline
    from pipeline_core.datamodels import RampModel  # noqa: F401  (imported before the clock)

    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    steps = step_overrides(inputs["refs"], maximum_cores)
    with OutsideSampler() as sampler, StepTimes() as step_times:
        cpu = time.process_time()
        start = time.perf_counter()
        Detector1Pipeline.call(inputs["uncal"], steps=steps, save_results=True, output_dir=outdir)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    result = {"seconds": seconds, "cpu": cpu, "peak_mib": sampler.peak, "steps": step_times.seconds}
    if again:
        start = time.perf_counter()
        Detector1Pipeline.call(inputs["uncal"], steps=steps, save_results=True, output_dir=outdir)
        result["again_seconds"] = time.perf_counter() - start
    return result


def read_and_write(inputs: dict, outdir: str) -> dict:
    """Time only the input and output of a call: no step runs.

    Reads the raw file into the float32 ramp (as the pipeline does, one
    thread) and saves rate and rateints products of the pipeline's shapes and
    types whose arrays are planes of that ramp (as ramp_fit's are when the fit
    is the ramp's last use). This is the floor of a fresh call on this machine.
    """
    from pipeline_core.datamodels import CubeModel, ImageModel, open_model

    with OutsideSampler() as sampler:
        cpu = time.process_time()
        start = time.perf_counter()
        ramp = open_model(inputs["uncal"])
        nints, _, ny, nx = ramp.data.shape
        planes = ramp.data.reshape(-1, ny, nx)
        if planes.shape[0] < 5 * (1 + nints):  # too few groups to hold the products
            planes = np.ones((5 * (1 + nints), ny, nx), np.float32)

        def arrays(first: int, count: int, cube: bool) -> dict:
            parts = [planes[first + k * count : first + (k + 1) * count] for k in range(5)]
            if not cube:
                parts = [part[0] for part in parts]
            return {"data": parts[0], "dq": parts[1].view(np.uint32), "err": parts[2],
                    "var_poisson": parts[3], "var_rnoise": parts[4]}

        rate = ImageModel(**arrays(0, 1, cube=False))
        rate.update(ramp)
        rate.save(os.path.join(outdir, "floor_rate.fits"))
        ints = CubeModel(**arrays(5, nints, cube=True))
        ints.update(ramp)
        ints.save(os.path.join(outdir, "floor_rateints.fits"))
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "peak_mib": sampler.peak}


class StepTimes(logging.Handler):
    """The time of each step, from the ``Step <name> done in <s> s`` lines of the log."""

    _DONE = re.compile(r"Step (\w+) done in ([0-9.]+) s")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}
        self._logger = logging.getLogger("steppe")
        self._level = self._logger.level

    def emit(self, record: logging.LogRecord) -> None:
        match = self._DONE.match(record.getMessage())
        if match:
            name = match.group(1)
            self.seconds[name] = self.seconds.get(name, 0.0) + float(match.group(2))

    def __enter__(self) -> StepTimes:
        self._logger.addHandler(self)
        if self._logger.getEffectiveLevel() > logging.INFO:
            self._logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)


_SAMPLER_CODE = """
import os, select, sys
sys.path.insert(0, sys.argv[1])
from parallel_common import pss_mib, tree
target, interval, me = int(sys.argv[2]), float(sys.argv[3]), os.getpid()
def sample():
    return sum(pss_mib(p) for p in tree(target) if p != me)
peak = sample()
print("ready", flush=True)
while not select.select([sys.stdin], [], [], interval)[0]:
    peak = max(peak, sample())
print(max(peak, sample()), flush=True)
"""


class OutsideSampler:
    """Peak PSS of this process tree, sampled by another process every `interval` s.

    The sampler runs in a process of its own (excluded from the sum), so that the
    timed process does not share its interpreter lock with it: a sampling thread
    in the timed process slowed a Detector1 call down twofold (every /proc read
    holds the lock a few milliseconds, and the main thread waits for it after each
    numpy or numba call that released it).
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = 0.0
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> OutsideSampler:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SAMPLER_CODE, str(Path(__file__).parent), str(os.getpid()), str(self.interval)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self._proc.stdout.readline()  # "ready"
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._proc.communicate("stop\n")
        self.peak = float(out.split()[-1])


def run_in_subprocess(inputs: dict, maximum_cores: str, outdir: str, env: dict | None = None,
                      mode: str = "call") -> dict:
    """Run :func:`run_call` (`mode` ``call``, or ``again`` for a second call) or
    :func:`read_and_write` (``io``) in a fresh interpreter."""
    code = (
        "import json, sys; sys.path.insert(0, %r); import detector1 as b; "
        "args = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]; "
        "result = b.read_and_write(args[0], args[2]) if args[3] == 'io' else "
        "b.run_call(args[0], args[1], args[2], again=args[3] == 'again'); "
        "print('RESULT' + json.dumps(result))"
    ) % str(Path(__file__).parent)
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(inputs), maximum_cores, outdir, mode],
        capture_output=True, text=True, check=False, env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark run failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def same_products(first: Path, second: Path) -> bool:
    """Whether two output folders hold identical rate and rateints arrays."""
    from astropy.io import fits

    files = sorted(first.glob("*_rate*.fits"))
    for path in files:
        with fits.open(path) as a, fits.open(second / path.name) as b:
            for hdu in a:
                if hdu.name in ("PRIMARY", "ASDF") or not isinstance(hdu.data, np.ndarray):
                    continue
                if hdu.data.dtype.names is None and not np.array_equal(hdu.data, b[hdu.name].data, equal_nan=True):
                    return False
    return bool(files)


def profile(inputs: dict, top: int = 25) -> None:
    """Print the cProfile of one serial call (after a warm-up call)."""
    import cProfile
    import pstats

    outdir = tempfile.mkdtemp(prefix="steppe_d1prof_")
    run_call(inputs, "none", outdir)
    profiler = cProfile.Profile()
    profiler.enable()
    run_call(inputs, "none", outdir)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def run_jwst(python: str, inputs: dict, workdir: Path, save_results: bool = True) -> tuple[float | None, float | None]:
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
        return None, None
    seconds = float(proc.stdout.split("RESULT")[-1].split()[0])
    peak_mib = int(proc.stdout.split("PEAK_KIB")[-1].split()[0]) / 1024
    return seconds, peak_mib


# ----------------------------------------------------------------------------- report
def report(tag: str, ramp_bytes: int, runs: dict, first: dict | None, rounds: list[dict], identical: bool) -> str:
    """Format the table of one size."""
    ramp_mib = ramp_bytes / 2**20
    med = {
        name: {k: statistics.median(r[k] for r in rs) for k in rs[0] if k != "steps"}
        for name, rs in runs.items() if rs
    }
    serial = med["serial"]
    lines = [
        f"\n## {tag}  (float32 ramp {ramp_mib:.0f} MiB; {len(rounds)} rounds; load "
        f"{statistics.median(r['load'] for r in rounds):.1f}, offered "
        f"{statistics.median(r['offered'] for r in rounds):.2f}x, medians)",
        "| run | time s | min s | CPU s | speed-up vs serial | peak MiB | peak / ramp | jwst time / run | jwst peak / run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    jwst = med.get("jwst")
    for name in ("serial", "2 cores", "jwst", "read + write only"):
        if name not in med:
            continue
        m = med[name]
        low = min(r["seconds"] for r in runs[name])
        vs = "" if jwst is None else f"{jwst['seconds'] / m['seconds']:.1f}x"
        vs_peak = "" if jwst is None else f"{jwst['peak_mib'] / m['peak_mib']:.1f}x"
        cpu = f"{m['cpu']:.2f}" if m.get("cpu") is not None else ""
        lines.append(
            f"| {name} | {m['seconds']:.2f} | {low:.2f} | {cpu} | {serial['seconds'] / m['seconds']:.2f}x | "
            f"{m['peak_mib']:.0f} | {m['peak_mib'] / ramp_mib:.2f}x | {vs} | {vs_peak} |"
        )
    for name in ("serial", "2 cores"):
        if "again_seconds" in med.get(name, {}):
            again = med[name]["again_seconds"]
            lines.append(f"| {name}, second call in the process | {again:.2f} | "
                         f"{min(r['again_seconds'] for r in runs[name]):.2f} | | "
                         f"{serial['again_seconds'] / again:.2f}x | | | | |")
    if first is not None:
        lines.append(
            f"| first run, empty numba cache | {first['seconds']:.2f} | | {first['cpu']:.2f} | | "
            f"{first['peak_mib']:.0f} | {first['peak_mib'] / ramp_mib:.2f}x | | |"
        )
    lines.append(f"products of the serial and 2-core runs identical: {identical}")
    lines += _step_table(runs)
    return "\n".join(lines)


def _step_table(runs: dict) -> list[str]:
    """Median seconds of the parallel steps and of the whole call, serial and on 2 cores."""
    if not runs.get("serial") or not runs.get("2 cores") or "steps" not in runs["serial"][0]:
        return []
    lines = ["", "| part | serial s | 2 cores s | speed-up |", "|---|---|---|---|"]

    def median(name: str, part: str) -> float:
        return statistics.median(r["steps"].get(part, 0.0) if part != "call" else r["seconds"] for r in runs[name])

    for part in ("jump", "ramp_fit", "call"):
        one, two = median("serial", part), median("2 cores", part)
        lines.append(f"| {part} | {one:.2f} | {two:.2f} | {one / two if two else float('nan'):.2f}x |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1x10,2x8", help="comma-separated NINTSxNGROUPS[xSIZE] (default: 1x10,2x8)")
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per run and size (default 5)")
    parser.add_argument("--workdir", default=None, help="folder for the synthetic files (default: a temp folder)")
    parser.add_argument("--cores", default="2", help="maximum_cores of the parallel run (default 2)")
    parser.add_argument("--no-first-run", action="store_true", help="skip the run with an empty numba cache")
    parser.add_argument("--profile", default=None, metavar="SIZE", help="print the cProfile of one serial call and stop")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "detector1.md"),
                        help="Markdown file the tables are written to (default: results/detector1.md); '' for none")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="steppe_d1bench_"))
    sys.path.insert(0, str(Path(__file__).parent))
    from parallel_common import cpu_scaling, load

    def parse(spec: str) -> tuple[int, int, int]:
        parts = [int(p) for p in spec.lower().split("x")]
        return tuple((parts + [2048])[:3])  # type: ignore[return-value]

    if args.profile:
        nints, ngroups, size = parse(args.profile)
        profile(make_inputs(workdir, nints, ngroups, size))
        return 0
    jwst_python = os.environ.get("STEPPE_JWST_PYTHON")
    tables = []
    for spec in args.sizes.split(","):
        nints, ngroups, size = parse(spec)
        tag = f"{nints}x{ngroups}x{size}^2"
        inputs = make_inputs(workdir, nints, ngroups, size)
        ramp_bytes = nints * ngroups * size * size * 4
        out = {name: workdir / f"out_{spec}_{name.replace(' ', '')}" for name in ("serial", "2 cores", "jwst", "io")}
        for folder in out.values():
            folder.mkdir(exist_ok=True)
        first = None
        if not args.no_first_run:
            env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(prefix="steppe_numba_fresh_"))
            first = run_in_subprocess(inputs, "none", str(out["serial"]), env=env)
        runs: dict[str, list[dict]] = {"serial": [], "2 cores": [], "read + write only": []}
        rounds = []
        for index in range(args.rounds):
            rounds.append({"load": load(), "offered": cpu_scaling(2)})
            order = [("serial", "none"), ("2 cores", args.cores)]
            for name, cores in order if index % 2 == 0 else order[::-1]:
                runs[name].append(run_in_subprocess(inputs, cores, str(out[name]), mode="again"))
            runs["read + write only"].append(run_in_subprocess(inputs, "none", str(out["io"]), mode="io"))
            if jwst_python:
                seconds, peak_mib = run_jwst(jwst_python, inputs, out["jwst"])
                if seconds is not None:
                    runs.setdefault("jwst", []).append({"seconds": seconds, "cpu": None, "peak_mib": peak_mib})
        runs = {k: v for k, v in runs.items() if v}
        if "jwst" in runs:
            for r in runs["jwst"]:
                r.pop("cpu")
        identical = same_products(out["serial"], out["2 cores"])
        tables.append(report(tag, ramp_bytes, runs, first, rounds, identical))
        print(tables[-1], flush=True)
    if args.output:
        write_results(Path(args.output), tables, sys.argv[1:], bool(jwst_python))
    return 0


def write_results(path: Path, tables: list[str], argv: list[str], with_jwst: bool) -> None:
    """Write the tables of a run, with the command and the machine, to a Markdown file."""
    import platform

    command = "python benchmarks/detector1.py " + " ".join(argv)
    if with_jwst:
        command = "STEPPE_JWST_PYTHON=... " + command
    head = [
        "# Detector1Pipeline.call() on synthetic NIRCam full frames",
        "",
        f"Written by `benchmarks/detector1.py` on {time.strftime('%Y-%m-%d %H:%M')}: `{command.strip()}`.",
        f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores available, "
        f"Python {platform.python_version()}. See the script's docstring for what each run times.",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(head) + "\n" + "\n".join(tables) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
