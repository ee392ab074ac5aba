"""What the Image2 and Image3 comparisons measure of two images of the same sky."""

from __future__ import annotations

import numpy as np


def wcs_offset_mas(mine, theirs) -> float:
    """The largest sky offset between two models' WCSs over a 9 x 9 grid of the first's pixels, in mas."""
    ny, nx = mine.data.shape
    y, x = (a.ravel().astype(float) for a in np.mgrid[0 : ny - 1 : 9j, 0 : nx - 1 : 9j])
    ra1, dec1 = mine.meta.wcs(x, y)
    ra2, dec2 = theirs.meta.wcs(x, y)
    return float(np.nanmax(np.hypot((ra1 - ra2) * np.cos(np.deg2rad(dec1)), dec1 - dec2) * 3600e3))


def sci_differences(mine, theirs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(a, b, good, rel)``: both SCI arrays as float, where both are finite, and the relative difference there."""
    a, b = mine.data.astype(float), theirs.data.astype(float)
    good = np.isfinite(a) & np.isfinite(b)
    rel = np.abs(a - b)[good] / np.maximum(np.abs(b[good]), 1e-6)
    return a, b, good, rel
