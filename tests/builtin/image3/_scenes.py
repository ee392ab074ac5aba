"""Dithered calibrated images of a star field with known truth (stars, cosmic rays, WCS errors).

Each exposure gets its pointing (``exposure_pointing``) and WCS first; every star
is then drawn where that WCS puts the star's sky position (the sky position of
its pixel in the first exposure), so the exposures agree exactly on the sky and
a mosaic's stars are where the first exposure's WCS says. The images carry the
true pixel area (from the WCS at the image centre), so fluxes in Jy are known.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.refdata.demo import exposure_pointing
from builtin_steps.refdata.ramps import scene
from tests.builtin.image2._rates import make_rate

#: Pixel offsets of the scene in each exposure.
DITHERS = ((0.0, 0.0), (3.5, -2.5), (-4.25, 5.5), (6.5, 3.0))
NOISE = 0.05  # per-pixel noise sigma of the synthetic cal images (MJy/sr)
SKY = 1.5  # the sky of ``scene``, removed from the cal images
#: Product name of the Image3 association of the exposures.
PRODUCT = "jw01234-a3001_t001_nircam_clear-f200w"


def star_list(seed: int = 7, size: int = 160, count: int = 40) -> list[tuple[float, float, float]]:
    """(x, y, flux) of the stars in the first exposure, at least 14 pixels apart.

    ``flux`` is the sum of the star's pixel values (MJy/sr); with :data:`NOISE`
    the catalog's total fluxes have S/N from about 200 to 10000.
    """
    rng = np.random.default_rng(seed)
    stars: list[tuple[float, float, float]] = []
    while len(stars) < count:
        x, y = rng.uniform(14, size - 14, 2)
        if all((x - a) ** 2 + (y - b) ** 2 > 14**2 for a, b, _ in stars):
            stars.append((float(x), float(y), float(10 ** rng.uniform(1.5, 3.3))))
    return stars


def pixel_area(wcs, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Solid angle (steradians) of the pixels at ``(x, y)``, from the WCS's local Jacobian."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ra1, dec1 = wcs(x + 0.5, y)
    ra0, dec0 = wcs(x - 0.5, y)
    ra3, dec3 = wcs(x, y + 0.5)
    ra2, dec2 = wcs(x, y - 0.5)
    cos = np.cos(np.deg2rad(dec0))
    ax, ay = ((ra1 - ra0) + 180) % 360 - 180, dec1 - dec0
    bx, by = ((ra3 - ra2) + 180) % 360 - 180, dec3 - dec2
    return np.abs(ax * cos * by - ay * bx * cos) * np.deg2rad(1.0) ** 2


def _exposure(index: int, seed: int):
    """A cal-like model of exposure ``index`` with its WCS (no data yet)."""
    from builtin_steps.assign_wcs.step import AssignWcsStep

    model = make_rate("nircam160", seed=seed + index)
    for key, value in exposure_pointing(DITHERS[index % len(DITHERS)]).items():
        if key in ("ra_v1", "dec_v1", "pa_v3"):
            setattr(model.meta.pointing, key, value)
        else:
            setattr(model.meta.wcsinfo, key, value)
    model.meta.observation.exposure_number = f"{index + 1:05d}"
    model.meta.filename = f"jw01234001001_01101_{index + 1:05d}_nrca1_cal.fits"
    model.meta.bunit_data = model.meta.bunit_err = "MJy/sr"
    return AssignWcsStep.call(model)


def make_cals(count: int = 3, *, cosmic_rays: int = 40, seed: int = 11) -> tuple[list, dict]:
    """Return ``count`` cal images (with WCS) and the truth.

    The truth: ``stars`` ((x, y, flux) in the first exposure), ``positions``
    (per exposure, the stars' (x, y) arrays), ``cosmic_rays`` (per exposure, the
    hit (y, x) pixels) and ``sky`` (the stars' RA, Dec).
    """
    stars = star_list()
    rng = np.random.default_rng(seed)
    cals, crs, positions = [], [], []
    sky = None
    for index in range(count):
        model = _exposure(index, seed)
        shape = model.data.shape
        if sky is None:
            sky = model.meta.wcs(np.array([s[0] for s in stars]), np.array([s[1] for s in stars]))
        x, y = model.meta.wcs.invert(*sky)
        positions.append((np.asarray(x), np.asarray(y)))
        drawn = [(float(a), float(b), s[2]) for a, b, s in zip(x, y, stars)]
        data = scene(drawn, shape, 0.0, 0.0) - SKY + rng.normal(0.0, NOISE, shape)
        hits: set[tuple[int, int]] = set()
        while len(hits) < cosmic_rays:
            hits.add(tuple(int(v) for v in rng.integers(3, shape[0] - 3, 2)))
        for y_hit, x_hit in hits:
            data[y_hit, x_hit] += rng.uniform(5.0, 50.0)
        model.data = data.astype(np.float32)
        model.var_rnoise = np.full(shape, NOISE**2, np.float32)
        model.var_poisson = np.zeros(shape, np.float32)
        model.var_flat = np.zeros(shape, np.float32)
        model.err = np.full(shape, NOISE, np.float32)
        model.dq = np.zeros(shape, np.uint32)
        area = float(pixel_area(model.meta.wcs, np.array([shape[1] / 2]), np.array([shape[0] / 2]))[0])
        model.meta.photometry.pixelarea_steradians = area
        model.meta.photometry.pixelarea_arcsecsq = area / np.deg2rad(1 / 3600) ** 2
        cals.append(model)
        crs.append(sorted(hits))
    return cals, {"stars": stars, "positions": positions, "cosmic_rays": crs, "sky": sky}


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
