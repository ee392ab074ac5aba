"""Benchmark: open + save of a full-frame ramp, steppe data models vs astropy.io.fits.

Writes a ``1 x 10 x 2048 x 2048`` ramp (float32 SCI, uint32 PIXELDQ, uint8 GROUPDQ,
the JWST layout) and a level-1b version of it (uint16 SCI), then times, in a fresh
subprocess per repeat:

* ``steppe``:  ``open_model(path)`` then ``model.save(out)`` — arrays end up in
  memory as native-endian, writable arrays of the model dtypes (uint16 -> float32).
* ``astropy``: ``fits.open(path)``, touch every HDU's data (memory-mapped, no
  conversion) then ``hdul.writeto(out)``.

For the level-1b input the products differ: astropy copies the uint16 file (84 MiB
for the default shape), steppe writes the float32 ramp with its DQ arrays (the
JWST RampModel layout, 216 MiB).

Each subprocess first warms both readers up on a tiny file (imports are not
measured), then reports the wall time of open and of save and how far its peak
resident set size (``VmHWM``, Linux) rose above the resident size before the
operation; memory-mapped file pages count once touched. A second set of subprocesses measures the peak of numpy/Python
allocations with ``tracemalloc`` (kept out of the timed runs, as it slows Python
code). Medians over the repeats are printed, with the steppe / astropy ratios.

Run::

    python benchmarks/datamodels_open_save.py [--repeats 3] [--shape 1 10 2048 2048]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, os, sys, time, tracemalloc

case, path, out, traced = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
import numpy as np
from astropy.io import fits
from pipeline_core.datamodels import RampModel, open_model


def status_kib(field):
    # VmRSS: resident now; VmHWM: peak resident since this process started (Linux).
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field + " not found in /proc/self/status")


def run():
    if case == "steppe":
        model = open_model(path)
        t1 = time.perf_counter()
        model.save(out)
    else:
        hdul = fits.open(path)
        for hdu in hdul:
            hdu.data
        t1 = time.perf_counter()
        hdul.writeto(out, overwrite=True)
        hdul.close()
    return t1


# Warm up both readers on a tiny file so that imports and caches are not measured.
tiny = out + ".warm.fits"
RampModel(data=np.zeros((1, 2, 4, 4), np.float32)).save(tiny)
open_model(tiny).save(tiny)
with fits.open(tiny) as warm:
    warm.writeto(tiny, overwrite=True)
os.remove(tiny)

os.sync()  # start from a clean page cache: no write-back of earlier runs in the timing
base = status_kib("VmRSS")
if traced:
    tracemalloc.start()
t0 = time.perf_counter()
t1 = run()
t2 = time.perf_counter()
peak = tracemalloc.get_traced_memory()[1] if traced else 0
rss = (status_kib("VmHWM") - base) / 1024
print(json.dumps({"open_s": t1 - t0, "save_s": t2 - t1, "total_s": t2 - t0,
                  "rss_mib": rss, "traced_mib": peak / 2**20}))
"""


def _make_inputs(folder: str, shape: tuple[int, ...]) -> dict[str, str]:
    import numpy as np
    from astropy.io import fits

    from pipeline_core.datamodels import RampModel

    rng = np.random.default_rng(0)
    counts = rng.integers(10000, 60000, size=shape, dtype=np.uint16)
    ramp = RampModel(data=counts)
    ramp.meta.instrument.name = "NIRCAM"
    ramp.meta.instrument.detector = "NRCA1"
    ramp.meta.exposure.nints, ramp.meta.exposure.ngroups = shape[0], shape[1]
    ramp.meta.subarray.name = "FULL"
    float_path = ramp.save(os.path.join(folder, "bench_ramp.fits"))
    level1b = os.path.join(folder, "bench_uncal.fits")
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(counts, name="SCI")])
    hdul[0].header["INSTRUME"] = "NIRCAM"
    hdul[0].header["DATAMODL"] = "Level1bModel"
    hdul.writeto(level1b, overwrite=True)
    return {"float32 ramp": float_path, "uint16 level-1b": level1b}


def _run(case: str, path: str, out: str, *, traced: bool) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, case, path, out, "1" if traced else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of medians and ratios.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status (0).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shape", type=int, nargs=4, default=[1, 10, 2048, 2048])
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="steppe-bench-") as folder:
        inputs = _make_inputs(folder, tuple(args.shape))
        size_mib = os.path.getsize(inputs["float32 ramp"]) / 2**20
        print(f"ramp {tuple(args.shape)}: {size_mib:.0f} MiB file, {args.repeats} repeats, medians")
        header = f"{'input':16} {'reader':8} {'open s':>7} {'save s':>7} {'total s':>8} "
        print(header + f"{'dRSS MiB':>9} {'traced MiB':>11}")
        for label, path in inputs.items():
            runs: dict[str, list[dict[str, float]]] = {"steppe": [], "astropy": []}
            traced: dict[str, list[dict[str, float]]] = {"steppe": [], "astropy": []}
            for _ in range(args.repeats):  # interleaved, so drifts hit both readers alike
                for case in runs:
                    out = os.path.join(folder, f"out_{case}.fits")
                    runs[case].append(_run(case, path, out, traced=False))
                    traced[case].append(_run(case, path, out, traced=True))
            medians = {}
            for case in runs:
                medians[case] = {
                    key: statistics.median(r[key] for r in runs[case]) for key in runs[case][0]
                }
                medians[case]["traced_mib"] = statistics.median(
                    r["traced_mib"] for r in traced[case]
                )
                m = medians[case]
                print(
                    f"{label:16} {case:8} {m['open_s']:7.3f} {m['save_s']:7.3f} "
                    f"{m['total_s']:8.3f} {m['rss_mib']:9.0f} {m['traced_mib']:11.0f}"
                )
            s, a = medians["steppe"], medians["astropy"]
            print(
                f"{label:16} {'ratio':8} {s['open_s'] / a['open_s']:7.2f} "
                f"{s['save_s'] / a['save_s']:7.2f} {s['total_s'] / a['total_s']:8.2f} "
                f"{s['rss_mib'] / max(a['rss_mib'], 1.0):9.2f} "
                f"{s['traced_mib'] / max(a['traced_mib'], 1.0):11.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
