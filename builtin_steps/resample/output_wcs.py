"""The output grid of a resampled image: a tangent-plane (TAN) WCS covering the inputs.

As in the JWST pipeline:

* the reference point on the sky (CRVAL) is the centre of the inputs'
  footprints (the middle of their extent in Cartesian coordinates), or ``crval``;
* the pixel scale is the first input's at its reference point (``RA_REF``,
  ``DEC_REF``) times ``pixel_scale_ratio``, or ``pixel_scale`` (arcsec);
* the orientation keeps the first input's (``ROLL_REF - VPARITY * V3I_YANG``,
  so the output axes follow the detector's), or puts the output's y axis at
  position angle ``rotation`` (0: north up, east left);
* the grid covers every input footprint, with the reference pixel where it
  falls (or at ``crpix``); ``output_shape`` fixes the size instead.

The result is a gwcs WCS with one ``FITSImagingWCSTransform`` step (detector ->
world), as JWST writes into ``i2d`` products. :func:`load_custom_wcs` reads a
WCS given in an ASDF file (``output_wcs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "OutputGrid",
    "footprint",
    "fiducial",
    "pixel_scale_at",
    "orientation_matrix",
    "output_grid",
    "load_custom_wcs",
]


@dataclass
class OutputGrid:
    """An output WCS and what was derived on the way.

    Attributes
    ----------
    wcs : gwcs.wcs.WCS
        Detector -> world, with ``bounding_box`` and ``pixel_shape``.
    shape : (int, int)
        ``(ny, nx)`` of the output arrays.
    pixel_scale : float
        Output pixel scale, arcsec.
    """

    wcs: Any
    shape: tuple[int, int]
    pixel_scale: float


def footprint(wcs: Any, shape: tuple[int, int]) -> np.ndarray:
    """Return the sky positions (degrees) of the corners of an image's pixel area.

    Parameters
    ----------
    wcs : gwcs.wcs.WCS
        The image's WCS (its bounding box, else the array's edges).
    shape : (int, int)
        The image's ``(ny, nx)``.

    Returns
    -------
    numpy.ndarray
        ``(4, 2)`` array of (RA, Dec).
    """
    try:
        (x0, x1), (y0, y1) = wcs.bounding_box.bounding_box(order="F")
    except (AttributeError, NotImplementedError, TypeError):
        (x0, x1), (y0, y1) = (-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5)
    ra, dec = wcs(np.array([x0, x1, x1, x0]), np.array([y0, y0, y1, y1]), with_bounding_box=False)
    return np.column_stack([ra, dec])


def fiducial(footprints: Sequence[np.ndarray]) -> tuple[float, float]:
    """Return the centre of footprints: the middle of their extent on the unit sphere.

    Parameters
    ----------
    footprints : sequence of numpy.ndarray
        ``(n, 2)`` arrays of (RA, Dec) in degrees.

    Returns
    -------
    (float, float)
        RA in [0, 360) and Dec, degrees.
    """
    lon, lat = np.deg2rad(np.vstack(footprints)).T
    xyz = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    mid = (xyz.max(axis=1) + xyz.min(axis=1)) / 2.0
    ra = np.rad2deg(np.arctan2(mid[1], mid[0])) % 360.0
    dec = np.rad2deg(np.arctan2(mid[2], np.hypot(mid[0], mid[1])))
    return float(ra), float(dec)


def _separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Great-circle distance in degrees (Vincenty's formula)."""
    ra1, dec1, ra2, dec2 = np.deg2rad([ra1, dec1, ra2, dec2])
    dra = ra2 - ra1
    num = np.hypot(np.cos(dec2) * np.sin(dra), np.cos(dec1) * np.sin(dec2) - np.sin(dec1) * np.cos(dec2) * np.cos(dra))
    den = np.sin(dec1) * np.sin(dec2) + np.cos(dec1) * np.cos(dec2) * np.cos(dra)
    return float(np.rad2deg(np.arctan2(num, den)))


def pixel_scale_at(wcs: Any, ra: float, dec: float) -> float:
    """Return an image's pixel scale (degrees) at a sky position.

    The geometric mean of the angular lengths of one pixel step in x and in y
    at the pixel that sees (``ra``, ``dec``).

    Parameters
    ----------
    wcs : gwcs.wcs.WCS
        The image's WCS (with an inverse).
    ra, dec : float
        Degrees.

    Returns
    -------
    float
    """
    x, y = wcs.invert(ra, dec, with_bounding_box=False)
    ra0, dec0 = wcs(x, y, with_bounding_box=False)
    rax, decx = wcs(x + 1.0, y, with_bounding_box=False)
    ray, decy = wcs(x, y + 1.0, with_bounding_box=False)
    return float(np.sqrt(_separation(ra0, dec0, rax, decx) * _separation(ra0, dec0, ray, decy)))


def orientation_matrix(roll_ref: float, v3yangle: float, vparity: int) -> np.ndarray:
    """Return the PC matrix of an output grid aligned with a detector.

    Parameters
    ----------
    roll_ref : float
        Position angle of V3 at the reference point, degrees (or, for a north-up
        grid at angle ``rotation``: ``rotation + vparity * v3yangle``).
    v3yangle : float
        Angle from the ideal frame's y axis to V3, degrees.
    vparity : int
        Parity of the ideal frame's x axis (1 or -1).

    Returns
    -------
    numpy.ndarray
        2x2 rotation (with parity) from pixel offsets to intermediate world
        coordinates.
    """
    angle = np.deg2rad(roll_ref) - vparity * np.deg2rad(v3yangle)
    return np.array(
        [[vparity * np.cos(angle), np.sin(angle)], [-vparity * np.sin(angle), np.cos(angle)]]
    )


def _orientation_from_wcs(wcs: Any, ra: float, dec: float) -> tuple[float, int]:
    """(angle, parity) of an image's axes at a sky position, for inputs without V3 angles."""
    x, y = wcs.invert(ra, dec, with_bounding_box=False)
    ra, dec = wcs(x, y, with_bounding_box=False)
    ra_y, dec_y = wcs(x, y + 1.0, with_bounding_box=False)
    ra_x, dec_x = wcs(x + 1.0, y, with_bounding_box=False)
    east_x = ((ra_x - ra + 180.0) % 360.0 - 180.0) * np.cos(np.deg2rad(dec))
    east_y = ((ra_y - ra + 180.0) % 360.0 - 180.0) * np.cos(np.deg2rad(dec))
    north_x, north_y = dec_x - dec, dec_y - dec
    parity = 1 if (east_x * north_y - east_y * north_x) > 0 else -1
    angle = float(np.rad2deg(np.arctan2(east_y, north_y)))
    return angle, parity


def output_grid(
    wcs_list: Sequence[Any],
    shapes: Sequence[tuple[int, int]],
    ref_wcsinfo: dict[str, Any],
    *,
    pixel_scale_ratio: float = 1.0,
    pixel_scale: float | None = None,
    rotation: float | None = None,
    shape: tuple[int, int] | None = None,
    crpix: Sequence[float] | None = None,
    crval: Sequence[float] | None = None,
) -> OutputGrid:
    """Build the output WCS covering the inputs.

    Parameters
    ----------
    wcs_list, shapes : sequences
        The inputs' WCSs and array shapes; the first is the reference.
    ref_wcsinfo : dict
        The first input's ``meta.wcsinfo`` (``ra_ref``, ``dec_ref``,
        ``roll_ref``, ``v3yangle``, ``vparity``); missing angles are measured
        on its WCS.
    pixel_scale_ratio : float
        Output over input pixel scale (ignored with ``pixel_scale``).
    pixel_scale : float, optional
        Output pixel scale, arcsec.
    rotation : float, optional
        Position angle of the output's y axis, degrees; None keeps the first
        input's orientation.
    shape : (int, int), optional
        ``(ny, nx)`` of the output; default: what covers the inputs.
    crpix : (float, float), optional
        0-based output pixel of the reference point.
    crval : (float, float), optional
        RA, Dec of the reference point; default: the footprints' centre.

    Returns
    -------
    OutputGrid

    Raises
    ------
    ValueError
        When the grid would be smaller than 2 pixels on a side.
    """
    from astropy.modeling.models import AffineTransformation2D, Pix2Sky_TAN, RotateNative2Celestial, Scale
    from gwcs import FITSImagingWCSTransform
    from gwcs.wcs import WCS

    prints = [footprint(w, s) for w, s in zip(wcs_list, shapes)]
    ref = crval if crval is not None else fiducial(prints)
    ref_wcs = wcs_list[0]
    ra_ref, dec_ref = ref_wcsinfo.get("ra_ref"), ref_wcsinfo.get("dec_ref")
    if ra_ref is None or dec_ref is None:
        ra_ref, dec_ref = ref
    if pixel_scale is None:
        scale = pixel_scale_at(ref_wcs, float(ra_ref), float(dec_ref)) * pixel_scale_ratio
    else:
        scale = pixel_scale / 3600.0
    roll, v3y, parity = (ref_wcsinfo.get(k) for k in ("roll_ref", "v3yangle", "vparity"))
    if roll is None or v3y is None or parity not in (1, -1):
        angle, parity = _orientation_from_wcs(ref_wcs, float(ra_ref), float(dec_ref))
        roll, v3y = angle, 0.0
    if rotation is not None:
        roll = rotation + parity * v3y
    pc = orientation_matrix(float(roll), float(v3y), int(parity))
    to_sky = (
        AffineTransformation2D(matrix=pc)
        | (Scale(scale) & Scale(scale))
        | Pix2Sky_TAN()
        | RotateNative2Celestial(ref[0], ref[1], 180.0)
    )
    corners = np.hstack([np.array(to_sky.inverse(*p.T)) for p in prints])
    native = np.array(to_sky.inverse(*ref))
    if not (np.all(np.isfinite(corners)) and np.all(np.isfinite(native))):
        raise ValueError(f"the inputs cannot be projected onto a tangent plane at CRVAL={tuple(ref)}")
    low, high = corners.min(axis=1), corners.max(axis=1)
    offsets = native - low if crpix is None else np.asarray(crpix, float) - native
    low, high = low + offsets, high + offsets
    if shape is None:
        ny, nx = int(high[1] + 0.5), int(high[0] + 0.5)
        bbox = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    else:
        ny, nx = int(shape[0]), int(shape[1])
        bbox = tuple(
            (max(0, int(lo + 0.5)) - 0.5, min(int(hi + 0.5), size) - 0.5)
            for lo, hi, size in zip(low, high, (nx, ny))
        )
        if any(lo >= hi for lo, hi in bbox):
            raise ValueError(f"the inputs fall outside the {nx} x {ny} output grid")
    if nx < 2 or ny < 2:
        raise ValueError(f"the output grid would be {nx} x {ny} pixels")
    transform = FITSImagingWCSTransform(
        Pix2Sky_TAN(), crpix=tuple(float(o) for o in offsets), crval=tuple(map(float, ref)),
        cdelt=(scale, scale), pc=pc,
    )
    wcs = WCS([(ref_wcs.input_frame, transform), (ref_wcs.output_frame, None)])
    wcs.bounding_box = bbox
    wcs.pixel_shape = (nx, ny)
    return OutputGrid(wcs=wcs, shape=(ny, nx), pixel_scale=scale * 3600.0)


def load_custom_wcs(path: str, shape: Sequence[int] | None = None) -> OutputGrid:
    """Read an output WCS from an ASDF file (its ``wcs`` entry).

    Parameters
    ----------
    path : str
        The ASDF file.
    shape : (int, int), optional
        ``(ny, nx)``; default: the WCS's ``array_shape``, else its bounding box.

    Returns
    -------
    OutputGrid

    Raises
    ------
    ValueError
        When the file has no WCS or its shape cannot be told.
    """
    import asdf

    with asdf.open(path, lazy_load=False, memmap=False) as af:
        wcs = af.tree.get("wcs")
    if wcs is None or not hasattr(wcs, "forward_transform"):
        raise ValueError(f"'{path}' has no 'wcs' entry holding a gwcs WCS")
    if shape is not None:
        wcs.array_shape = tuple(int(n) for n in shape)
    elif wcs.array_shape is None:
        if wcs.bounding_box is None:
            raise ValueError(f"the WCS in '{path}' has neither array_shape nor bounding_box; give output_shape")
        (_, x1), (_, y1) = wcs.bounding_box.bounding_box(order="F")
        wcs.array_shape = (int(y1 + 0.5), int(x1 + 0.5))
    ny, nx = wcs.array_shape
    x, y = (ny - 1) / 2.0, (nx - 1) / 2.0
    ra0, dec0 = wcs(y, x, with_bounding_box=False)
    ra1, dec1 = wcs(y + 1.0, x, with_bounding_box=False)
    ra2, dec2 = wcs(y, x + 1.0, with_bounding_box=False)
    scale = np.sqrt(_separation(ra0, dec0, ra1, dec1) * _separation(ra0, dec0, ra2, dec2)) * 3600.0
    return OutputGrid(wcs=wcs, shape=(int(ny), int(nx)), pixel_scale=float(scale))
