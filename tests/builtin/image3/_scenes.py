"""Dithered calibrated images of the demo star field with known truth (stars, cosmic rays, WCS errors)."""

from __future__ import annotations

import numpy as np

from builtin_steps.refdata.demo import exposure_pointing
from builtin_steps.refdata.ramps import scene
from tests.builtin.image2._rates import make_rate

#: Pixel offsets of the scene in each exposure.
DITHERS = ((0.0, 0.0), (3.5, -2.5), (-4.25, 5.5), (6.5, 3.0))
NOISE = 0.05  # per-pixel noise sigma of the synthetic cal images


def star_list(seed: int = 7, size: int = 160, count: int = 40) -> list[tuple[float, float, float]]:
    """(x, y, flux) of the stars in the first exposure; fluxes give S/N from ~20 to > 1000."""
    rng = np.random.default_rng(seed)
    stars: list[tuple[float, float, float]] = []
    while len(stars) < count:
        x, y = rng.uniform(14, size - 14, 2)
        if all((x - a) ** 2 + (y - b) ** 2 > 14**2 for a, b, _ in stars):
            stars.append((float(x), float(y), float(10 ** rng.uniform(1.5, 3.3))))
    return stars


def make_cals(count: int = 3, *, cosmic_rays: int = 40, seed: int = 11) -> tuple[list, dict]:
    """Return ``count`` cal images (with WCS) and the truth: stars and cosmic-ray pixels per image."""
    from builtin_steps.assign_wcs.step import AssignWcsStep

    stars = star_list()
    rng = np.random.default_rng(seed)
    cals, crs = [], []
    for index in range(count):
        dx, dy = DITHERS[index % len(DITHERS)]
        model = make_rate("nircam160", seed=seed + index)
        data = scene(stars, model.data.shape, dx, dy) - 1.5 + rng.normal(0.0, NOISE, model.data.shape)
        hits = set()
        while len(hits) < cosmic_rays:
            y, x = (int(v) for v in rng.integers(3, 157, 2))
            hits.add((y, x))
        for y, x in hits:
            data[y, x] += rng.uniform(5.0, 50.0)
        model.data = data.astype(np.float32)
        model.var_rnoise = np.full(data.shape, NOISE**2, np.float32)
        model.var_poisson = np.zeros(data.shape, np.float32)
        model.var_flat = np.zeros(data.shape, np.float32)
        model.err = np.full(data.shape, NOISE, np.float32)
        model.dq = np.zeros(data.shape, np.uint32)
        model.meta.bunit_data = model.meta.bunit_err = "MJy/sr"
        for key, value in exposure_pointing((dx, dy)).items():
            if key in ("ra_v1", "dec_v1", "pa_v3"):
                setattr(model.meta.pointing, key, value)
            else:
                setattr(model.meta.wcsinfo, key, value)
        model.meta.observation.exposure_number = f"{index + 1:05d}"
        model.meta.filename = f"jw01234001001_01101_{index + 1:05d}_nrca1_cal.fits"
        model.meta.photometry.pixelarea_steradians = 2.29e-14
        model.meta.photometry.pixelarea_arcsecsq = 2.29e-14 / (np.pi / 180 / 3600) ** 2
        cals.append(AssignWcsStep.call(model))
        crs.append(sorted(hits))
    return cals, {"stars": stars, "cosmic_rays": crs}


def inject_wcs_error(model, shift_arcsec: tuple[float, float], rot_deg: float = 0.0) -> None:
    """Move a model's WCS by a tangent-plane shift (arcsec) and rotation (degrees)."""
    from tweakwcs.correctors import JWSTWCSCorrector

    info = model.meta.wcsinfo
    corr = JWSTWCSCorrector(model.meta.wcs, {"roll_ref": info.roll_ref, "v2_ref": info.v2_ref,
                                             "v3_ref": info.v3_ref})
    theta = np.deg2rad(rot_deg)
    matrix = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    corr.set_correction(matrix=matrix, shift=np.asarray(shift_arcsec, float))
    model.meta.wcs = corr.wcs


def sky_truth(reference_wcs, stars) -> tuple[np.ndarray, np.ndarray]:
    """RA, Dec of the stars, through the first exposure's correct WCS."""
    x = np.array([s[0] for s in stars])
    y = np.array([s[1] for s in stars])
    return reference_wcs(x, y)
