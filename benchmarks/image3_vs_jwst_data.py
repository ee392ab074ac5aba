"""Synthetic NIRCam Image2 products (``cal``) of one star field and their Image3 association.

Written with steppe (run in steppe's environment): each exposure is a full-frame
NRCA1 F200W image in MJy/sr, dithered by up to ``--dither`` pixels, with its
pointing keywords and a WCS from steppe's ``assign_wcs`` (the embedded reference
set's distortion; no SIP fit, to write quickly). The stars are fixed on the sky
and drawn where each exposure's WCS puts them; every exposure has its own
cosmic-ray hits, which outlier detection should flag. Both pipelines read these
files: jwst reads the WCS from the ASDF extension.

Run (as the benchmark does)::

    python benchmarks/image3_vs_jwst_data.py FOLDER COUNT [--seed 3] [--dither 40]

Prints one ``RESULT`` line (JSON): the association's path and the seconds taken.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

PRODUCT = "jw01234-o001_t001_nircam_clear-f200w"
SKY, NOISE, PSF_SIGMA = 0.3, 0.02, 1.1  # MJy/sr; per-pixel noise; pixels
SHAPE = (2048, 2048)


def star_field(seed: int, count: int = 400) -> np.ndarray:
    """(ra, dec, flux) of the stars: uniform over the first exposure's field plus a margin."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-60, SHAPE[1] + 60, count)
    y = rng.uniform(-60, SHAPE[0] + 60, count)
    flux = 10 ** rng.uniform(0.3, 2.3, count)  # MJy/sr summed over the star's pixels
    wcs = _exposure(0, (0.0, 0.0)).meta.wcs
    ra, dec = wcs(x, y, with_bounding_box=False)
    return np.column_stack([ra, dec, flux])


def _exposure(index: int, dither: tuple[float, float]):
    """The metadata and WCS of exposure ``index`` (arrays not yet set)."""
    from builtin_steps.assign_wcs.step import AssignWcsStep
    from builtin_steps.refdata.demo import exposure_pointing
    from builtin_steps.refdata.imaging_files import _nominal_area
    from pipeline_core.datamodels import ImageModel

    model = ImageModel(data=np.zeros(SHAPE, np.float32))
    meta = model.meta
    meta.filename = f"jw01234001001_01101_{index + 1:05d}_nrca1_cal.fits"
    meta.telescope = "JWST"
    meta.instrument.name, meta.instrument.detector = "NIRCAM", "NRCA1"
    meta.instrument.filter, meta.instrument.pupil = "F200W", "CLEAR"
    meta.instrument.module, meta.instrument.channel = "A", "SHORT"
    meta.exposure.type, meta.exposure.readpatt = "NRC_IMAGE", "MEDIUM8"
    meta.exposure.exposure_time = meta.exposure.effective_exposure_time = 515.4
    meta.exposure.measurement_time, meta.exposure.duration = 472.5, 536.8
    start = 60568.13 + index * 0.007
    meta.exposure.start_time, meta.exposure.mid_time, meta.exposure.end_time = start, start + 0.003, start + 0.006
    meta.observation.date, meta.observation.time = "2024-09-15", "03:12:00.000"
    obs = meta.observation
    obs.program_number, obs.observation_number, obs.visit_number = "01234", "001", "001"
    obs.visit_group, obs.sequence_id, obs.activity_id = "01", "1", "01"
    obs.exposure_number = f"{index + 1:05d}"
    meta.subarray.name, meta.subarray.xstart, meta.subarray.ystart = "FULL", 1, 1
    meta.subarray.xsize, meta.subarray.ysize = SHAPE[1], SHAPE[0]
    meta.aperture.name = "NRCA1_FULL"
    meta.bunit_data = meta.bunit_err = "MJy/sr"
    # the detector's pixel area at the aperture's reference point (PIXAR_SR, PIXAR_A2 of its photom file)
    meta.photometry.pixelarea_steradians, meta.photometry.pixelarea_arcsecsq = _nominal_area("NIRCAM", "NRCA1")
    for key, value in exposure_pointing(dither).items():
        target = meta.pointing if key in ("ra_v1", "dec_v1", "pa_v3") else meta.wcsinfo
        setattr(target, key, value)
    meta.velocity_aberration.scale_factor = 1.0
    for step in ("flat_field", "photom"):
        setattr(meta.cal_step, step, "COMPLETE")
    return AssignWcsStep.call(model, sip_approx=False)


def _draw(stars_xy: np.ndarray) -> np.ndarray:
    image = np.full(SHAPE, SKY, np.float64)
    reach = int(np.ceil(6 * PSF_SIGMA))
    norm = 1.0 / (2 * np.pi * PSF_SIGMA**2)
    for x, y, flux in stars_xy:
        if not (-reach < x < SHAPE[1] + reach and -reach < y < SHAPE[0] + reach):
            continue
        y0, y1 = max(int(y) - reach, 0), min(int(y) + reach + 2, SHAPE[0])
        x0, x1 = max(int(x) - reach, 0), min(int(x) + reach + 2, SHAPE[1])
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        image[y0:y1, x0:x1] += flux * norm * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * PSF_SIGMA**2))
    return image


def write_cal(folder: Path, index: int, dither: tuple[float, float], stars: np.ndarray, seed: int) -> str:
    """Write exposure ``index`` and return its file name."""
    rng = np.random.default_rng(seed + 1000 * (index + 1))
    model = _exposure(index, dither)
    x, y = model.meta.wcs.invert(stars[:, 0], stars[:, 1], with_bounding_box=False)
    image = _draw(np.column_stack([x, y, stars[:, 2]]))
    var_poisson = (np.maximum(image, 0.0) * 2e-4).astype(np.float32)
    image += rng.normal(0.0, 1.0, SHAPE) * np.sqrt(NOISE**2 + var_poisson)
    hits = rng.integers(4, SHAPE[0] - 4, (300, 2))
    image[hits[:, 0], hits[:, 1]] += rng.uniform(1.0, 30.0, len(hits))
    dq = np.zeros(SHAPE, np.uint32)
    bad = rng.integers(0, SHAPE[0], (2000, 2))
    dq[bad[:, 0], bad[:, 1]] = 1  # DO_NOT_USE
    image[dq == 1] = np.nan
    model.data = image.astype(np.float32)
    model.dq = dq
    model.var_rnoise = np.full(SHAPE, NOISE**2, np.float32)
    model.var_poisson = var_poisson
    model.var_flat = np.zeros(SHAPE, np.float32)
    model.err = np.sqrt(model.var_rnoise + var_poisson).astype(np.float32)
    model.save(str(folder / model.meta.filename))
    return model.meta.filename


def write_association(folder: Path, count: int, *, seed: int = 3, dither: float = 40.0) -> Path:
    """Write ``count`` cal files and the association naming them; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    stars = star_field(seed)
    offsets = [(0.0, 0.0)] + [tuple(rng.uniform(-dither, dither, 2)) for _ in range(count - 1)]
    members = [{"expname": write_cal(folder, i, off, stars, seed), "exptype": "science"}
               for i, off in enumerate(offsets)]
    asn = {"asn_type": "image3", "asn_rule": "candidate_Asn_Lv3Image", "asn_id": "o001",
           "asn_pool": "jw01234_pool.csv", "program": "01234", "target": "t001", "version_id": None,
           "code_version": "steppe-benchmark", "degraded_status": "No known degraded exposures in association.",
           "constraints": "none", "products": [{"name": PRODUCT, "members": members}]}
    path = folder / f"{PRODUCT}_image3_asn.json"
    path.write_text(json.dumps(asn, indent=1))
    return path


def main(argv: list[str] | None = None) -> int:
    """Write the files; print the ``RESULT`` line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--dither", type=float, default=40.0, help="largest dither, pixels")
    args = parser.parse_args(argv)
    if args.count < 2:
        parser.error(f"count = {args.count}: Image3 needs at least 2 exposures")
    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    from builtin_steps.refdata.cache import ensure_embedded_cache
    from pipeline_core.references import crds_client

    os.environ["CRDS_PATH"] = ensure_embedded_cache()
    os.environ["CRDS_SERVER_URL"] = crds_client.SERVERLESS_URL
    started = time.perf_counter()
    path = write_association(Path(args.folder), args.count, seed=args.seed, dither=args.dither)
    print("RESULT" + json.dumps({"asn": str(path), "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
