"""The imaging WCS: a gwcs pipeline detector -> v2v3 -> v2v3vacorr -> world.

The frames and transforms of the JWST imaging WCS (NIRCam, NIRISS, MIRI):

* ``detector`` -> ``v2v3``: the subarray's offset in the full frame (pixels),
  the filter's offset (pixels, from the ``filteroffset`` reference) and the
  distortion (from the ``distortion`` reference: full-frame pixels to V2, V3 in
  arcsec), bound to the image's pixels (``bounding_box``);
* ``v2v3`` -> ``v2v3vacorr``: the differential velocity aberration scaling;
* ``v2v3vacorr`` -> ``world``: the attitude rotation to ICRS (RA, Dec).

Also here: the footprint of an image on the sky (``S_REGION``) and the FITS SIP
approximation of the WCS written to ``meta.wcsinfo``. Nothing here knows about
data models: the glue passes numbers and transforms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["imaging_wcs", "detector_to_v2v3", "s_region", "fits_sip_keywords"]


def detector_to_v2v3(
    distortion: Any,
    *,
    shape: tuple[int, int],
    xstart: int = 1,
    ystart: int = 1,
    filter_offset: tuple[float, float] | None = None,
) -> Any:
    """Return the transform from the image's pixels to V2, V3 (arcsec).

    Parameters
    ----------
    distortion : astropy.modeling.Model
        Full-frame 0-based pixels -> V2, V3 (the ``distortion`` reference).
    shape : (int, int)
        The image's ``(ny, nx)``.
    xstart, ystart : int
        The image's first full-frame column and row (1-based ``SUBSTRT1/2``).
    filter_offset : (float, float), optional
        Column and row offsets of the filter (pixels), added before the distortion.

    Returns
    -------
    astropy.modeling.Model
        With its ``bounding_box`` on the image's pixel edges,
        ``((-0.5, nx - 0.5), (-0.5, ny - 0.5))`` in x, y order.
    """
    from astropy.modeling import bind_bounding_box
    from astropy.modeling.models import Shift

    transform = distortion
    if filter_offset is not None:
        transform = (Shift(filter_offset[0]) & Shift(filter_offset[1])) | transform
    if xstart != 1 or ystart != 1:
        transform = (Shift(xstart - 1) & Shift(ystart - 1)) | transform
    ny, nx = shape
    bind_bounding_box(transform, ((-0.5, nx - 0.5), (-0.5, ny - 0.5)), order="F")
    return transform


def imaging_wcs(det2v2v3: Any, va_correction: Any, v2v3_to_world: Any) -> Any:
    """Assemble the four-frame imaging WCS.

    Parameters
    ----------
    det2v2v3 : astropy.modeling.Model
        From :func:`detector_to_v2v3`.
    va_correction : astropy.modeling.Model
        V2, V3 -> aberration-corrected V2, V3.
    v2v3_to_world : astropy.modeling.Model
        Corrected V2, V3 -> RA, Dec.

    Returns
    -------
    gwcs.wcs.WCS
        Frames ``detector`` (pixels), ``v2v3`` and ``v2v3vacorr`` (arcsec) and
        ``world`` (ICRS, degrees).
    """
    from astropy import coordinates as coord
    from astropy import units as u
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    v2v3 = cf.Frame2D(name="v2v3", axes_order=(0, 1), axes_names=("v2", "v3"), unit=(u.arcsec, u.arcsec))
    v2v3vacorr = cf.Frame2D(
        name="v2v3vacorr", axes_order=(0, 1), axes_names=("v2", "v3"), unit=(u.arcsec, u.arcsec)
    )
    world = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    return WCS([(detector, det2v2v3), (v2v3, va_correction), (v2v3vacorr, v2v3_to_world), (world, None)])


def s_region(wcs: Any) -> str | None:
    """Return the ``S_REGION`` polygon of an image: the sky positions of its bounding-box corners.

    Parameters
    ----------
    wcs : gwcs.wcs.WCS
        An imaging WCS with a bounding box.

    Returns
    -------
    str or None
        ``"POLYGON ICRS  ra1 dec1 ra2 dec2 ra3 dec3 ra4 dec4"`` (degrees, RA in
        [0, 360)), or None when a corner falls outside the transform's domain.
    """
    (x0, x1), (y0, y1) = wcs.bounding_box.bounding_box(order="F")
    xs = np.array([x0, x1, x1, x0])
    ys = np.array([y0, y0, y1, y1])
    ra, dec = wcs(xs, ys, with_bounding_box=False)
    corners = np.column_stack([np.mod(ra, 360.0), dec]).ravel()
    if not np.all(np.isfinite(corners)):
        return None
    return "POLYGON ICRS  " + " ".join(f"{v:.9f}" for v in corners)


def fits_sip_keywords(
    wcs: Any,
    *,
    max_pix_error: float,
    degree: int | None,
    max_inv_pix_error: float,
    inv_degree: int | None,
    npoints: int,
    crpix: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Fit the FITS TAN-SIP approximation of an imaging WCS.

    Parameters
    ----------
    wcs : gwcs.wcs.WCS
        An imaging WCS with a bounding box.
    max_pix_error, max_inv_pix_error : float
        Largest forward and inverse errors accepted, pixels.
    degree, inv_degree : int or None
        The polynomial degrees; None tries 1 to 6 and keeps the lowest that meets
        the error.
    npoints : int
        Sample points per axis.
    crpix : (float, float), optional
        1-based reference pixel; default: near the centre of the bounding box.

    Returns
    -------
    dict
        Lower-case FITS keywords (``ctype1``, ``crpix1``, ``cd1_1``, ``a_order``,
        ``a_2_0``...), without ``naxis*``.

    Raises
    ------
    ValueError
        When no degree meets the requested accuracy.
    """
    header = wcs.to_fits_sip(
        max_pix_error=max_pix_error,
        degree=range(1, 7) if degree is None else degree,
        max_inv_pix_error=max_inv_pix_error,
        inv_degree=range(1, 7) if inv_degree is None else inv_degree,
        npoints=npoints,
        crpix=crpix,
    )
    return {key.lower(): value for key, value in header.items() if not key.upper().startswith("NAXIS")}
