"""Image2 products of steppe and of the JWST pipeline on the same rate file.

Writes a synthetic NIRCam rate image (a star field on a flat sky, ``NRCA1``
``SUB160``, F200W, with pointing keywords), runs JWST's ``calwebb_image2`` on it
in the environment named by ``STEPPE_JWST_PYTHON`` and steppe's here, both with
the reference files of steppe's embedded set (distortion, filteroffset, flat,
photom, area), and prints how the ``cal`` and ``i2d`` products differ: the WCS
(sky positions over the image), the calibrated values, the resampled grid and
flux, and the time each took.

Run::

    STEPPE_JWST_PYTHON=/path/to/jwst-env/bin/python python benchmarks/image2_vs_jwst.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from image_compare import sci_differences, wcs_offset_mas  # noqa: E402

JWST_SCRIPT = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from jwst.pipeline import Image2Pipeline
rate, out, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
started = time.perf_counter()
Image2Pipeline.call(rate, save_results=True, output_dir=out, steps=overrides)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""

_OTHER_WCS_TYPES = (
    "specwcs", "regions", "wavelengthrange", "camera", "chromcorr", "collimator", "disperser",
    "fore", "fpa", "msa", "ote", "ifupost", "ifufore", "ifuslicer",
)  # fmt: skip


def make_rate(path: Path) -> str:
    """Write the synthetic rate image and return its path."""
    from builtin_steps.refdata.demo import exposure_pointing
    from pipeline_core.datamodels import ImageModel

    rng = np.random.default_rng(7)
    ny = nx = 160
    y, x = np.indices((ny, nx), dtype=float)
    data = np.full((ny, nx), 2.0)
    for _ in range(25):
        sx, sy, flux = rng.uniform(8, 152), rng.uniform(8, 152), 10 ** rng.uniform(1, 3)
        data += flux / (2 * np.pi * 1.5**2) * np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * 1.5**2))
    data += 0.02 * rng.standard_normal((ny, nx))
    model = ImageModel(data=data.astype(np.float32))
    model.var_rnoise = np.full((ny, nx), 4e-4, np.float32)
    model.var_poisson = (np.maximum(data, 0) / 500.0).astype(np.float32)
    model.err = np.sqrt(model.var_rnoise + model.var_poisson)
    meta = model.meta
    meta.telescope = "JWST"
    meta.instrument.name, meta.instrument.detector = "NIRCAM", "NRCA1"
    meta.instrument.filter, meta.instrument.pupil = "F200W", "CLEAR"
    meta.instrument.module, meta.instrument.channel = "A", "SHORT"
    meta.exposure.type, meta.exposure.readpatt = "NRC_IMAGE", "RAPID"
    meta.exposure.exposure_time = meta.exposure.effective_exposure_time = 100.0
    meta.exposure.measurement_time, meta.exposure.duration = 90.0, 110.0
    meta.exposure.start_time, meta.exposure.mid_time, meta.exposure.end_time = 60568.13, 60568.1306, 60568.1313
    meta.observation.date, meta.observation.time = "2024-09-15", "03:12:00.000"
    meta.subarray.name, meta.subarray.xstart, meta.subarray.ystart = "SUB160", 1889, 1
    meta.subarray.xsize, meta.subarray.ysize = nx, ny
    meta.bunit_data = meta.bunit_err = "DN/s"
    for key, value in exposure_pointing((0.0, 0.0)).items():
        target = meta.pointing if key in ("ra_v1", "dec_v1", "pa_v3") else meta.wcsinfo
        setattr(target, key, value)
    meta.velocity_aberration.scale_factor = 1.0
    return model.save(path)


def references(model) -> dict[str, str]:
    """The embedded set's file of each Image2 reference type for ``model``."""
    from builtin_steps.assign_wcs import AssignWcsStep
    from builtin_steps.refdata.cache import ensure_embedded_cache
    from pipeline_core.references import crds_client

    os.environ["CRDS_PATH"] = ensure_embedded_cache()
    os.environ["CRDS_SERVER_URL"] = crds_client.SERVERLESS_URL
    step = AssignWcsStep()
    return {t: step.get_reference_file(model, t) for t in ("distortion", "filteroffset", "flat", "photom", "area")}


def overrides(refs: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per-step ``override_<reftype>`` parameters naming these files (N/A for the rest)."""
    wcs = {f"override_{t}": refs[t] for t in ("distortion", "filteroffset")}
    wcs.update({f"override_{t}": "N/A" for t in _OTHER_WCS_TYPES})
    return {
        "bkg_subtract": {"override_bkg": "N/A", "override_wavelengthrange": "N/A"},
        "assign_wcs": wcs,
        "flat_field": {"override_flat": refs["flat"], "override_fflat": "N/A", "override_sflat": "N/A",
                       "override_dflat": "N/A"},
        "photom": {"override_photom": refs["photom"], "override_area": refs["area"]},
    }


def compare(name: str, mine_path: str, theirs_path: str) -> list[str]:
    """Report lines comparing one product of each pipeline."""
    from pipeline_core.datamodels import open_model

    mine, theirs = open_model(mine_path), open_model(theirs_path)
    lines = [f"{name}: steppe {mine.data.shape}, jwst {theirs.data.shape}"]
    lines.append(f"  WCS: largest sky offset over the image {wcs_offset_mas(mine, theirs):.3g} mas")
    if mine.data.shape == theirs.data.shape:
        _, _, good, rel = sci_differences(mine, theirs)
        lines.append(f"  SCI: {good.sum()} pixels, median relative difference {np.median(rel):.2g}, "
                     f"99th percentile {np.quantile(rel, 0.99):.2g}")
    area = [m.meta.photometry.pixelarea_steradians or 1.0 for m in (mine, theirs)]
    flux = [float(np.nansum(m.data)) * s for m, s in zip((mine, theirs), area)]
    lines.append(f"  total flux (MJy): steppe {flux[0]:.6g}, jwst {flux[1]:.6g}, ratio {flux[0] / flux[1]:.6f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run both pipelines and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    python = os.environ.get("STEPPE_JWST_PYTHON")
    if not python:
        print("set STEPPE_JWST_PYTHON to the python of an environment with jwst installed", file=sys.stderr)
        return 2
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="i2cmp_"))
    (workdir / "jwst").mkdir(parents=True, exist_ok=True)
    (workdir / "steppe").mkdir(exist_ok=True)
    rate = make_rate(workdir / "jw09999001001_01101_00001_nrca1_rate.fits")
    from pipeline_core.datamodels import open_model

    refs = references(open_model(rate))
    pars = overrides(refs)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    # the embedded set is a complete CRDS cache: JWST reads its context from it
    env.update(STPIPE_DISABLE_CRDS_STEPPARS="1", CRDS_PATH=os.environ["CRDS_PATH"],
               CRDS_SERVER_URL=os.environ["CRDS_SERVER_URL"])
    done = subprocess.run([python, "-c", JWST_SCRIPT, rate, str(workdir / "jwst"), json.dumps(pars)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
        return 1
    jwst_seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    from builtin_steps.pipelines import Image2Pipeline

    started = time.perf_counter()
    Image2Pipeline.call(rate, save_results=True, output_dir=str(workdir / "steppe"), steps=pars)
    seconds = time.perf_counter() - started
    print(f"Image2, NIRCam NRCA1 SUB160 F200W: steppe {seconds:.2f} s, jwst {jwst_seconds:.2f} s (in-process)")
    stem = "jw09999001001_01101_00001_nrca1"
    for suffix in ("cal", "i2d"):
        for line in compare(suffix, str(workdir / "steppe" / f"{stem}_{suffix}.fits"),
                            str(workdir / "jwst" / f"{stem}_{suffix}.fits")):
            print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
