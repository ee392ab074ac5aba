"""The imaging distortion of JWST detectors from the SIAF (pysiaf's coefficients).

The Science Instrument Aperture File (SIAF) describes each detector's full-frame
aperture by polynomials from its science frame (``sci``, 1-based pixels in the
orientation of the JWST data products) to the ideal frame (``idl``, arcsec in
the tangent plane), and by the planar rotation and offset from the ideal frame
to the telescope frame (``V2``, ``V3``, arcsec). :mod:`pysiaf` ships the
coefficients of every aperture; this module turns them into the astropy-modeling
transform a JWST ``distortion`` reference file holds:

    detector (0-based x, y) -> +1 -> - (XSciRef, YSciRef) -> Sci2Idl polynomials
    -> rotation by V3IdlYAngle with parity VIdlParity -> + (V2Ref, V3Ref) -> V2, V3

whose inverse uses the SIAF's own Idl2Sci polynomials, and into the pixel area
map the ``area`` reference file holds (the Jacobian of the same polynomials).

pysiaf is imported on first use (it takes a few seconds), never at import time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ImagingAperture",
    "APERTURES",
    "aperture",
    "siaf_aperture",
    "distortion_transform",
    "ideal_pixel_area",
    "ARCSEC2_TO_SR",
]

#: Square arcseconds to steradians.
ARCSEC2_TO_SR = (np.pi / 180.0 / 3600.0) ** 2

_PYSIAF_NAMES = {"NIRCAM": "NIRCam", "NIRISS": "NIRISS", "MIRI": "MIRI"}


@dataclass(frozen=True)
class ImagingAperture:
    """The full-frame SIAF aperture that describes one imaging detector.

    Parameters
    ----------
    instrument : str
        Upper-case instrument name (``META.INSTRUMENT.NAME``).
    detector : str
        Upper-case detector name (``META.INSTRUMENT.DETECTOR``).
    name : str
        SIAF aperture name, e.g. ``"NRCA1_FULL"``.
    module, channel : str
        NIRCam module (``A``/``B``) and channel (``SHORT``/``LONG``); empty for
        the other instruments.
    """

    instrument: str
    detector: str
    name: str
    module: str = ""
    channel: str = ""


def _nircam(detector: str, siaf_name: str) -> ImagingAperture:
    long = detector.endswith("LONG")
    return ImagingAperture("NIRCAM", detector, siaf_name, detector[3], "LONG" if long else "SHORT")


#: (instrument, detector) -> the SIAF full-frame aperture used for its distortion.
APERTURES: dict[tuple[str, str], ImagingAperture] = {
    (a.instrument, a.detector): a
    for a in (
        *(_nircam(f"NRC{m}{n}", f"NRC{m}{n}_FULL") for m in "AB" for n in "1234"),
        _nircam("NRCALONG", "NRCA5_FULL"),
        _nircam("NRCBLONG", "NRCB5_FULL"),
        ImagingAperture("NIRISS", "NIS", "NIS_CEN"),
        ImagingAperture("MIRI", "MIRIMAGE", "MIRIM_FULL"),
    )
}


def aperture(instrument: str, detector: str) -> ImagingAperture:
    """Return the imaging aperture of a detector.

    Parameters
    ----------
    instrument, detector : str
        Names, any case.

    Returns
    -------
    ImagingAperture

    Raises
    ------
    KeyError
        For a detector without imaging distortion; the message lists those known.
    """
    key = (instrument.upper(), detector.upper())
    try:
        return APERTURES[key]
    except KeyError:
        known = ", ".join(f"{i}/{d}" for i, d in sorted(APERTURES))
        raise KeyError(f"no imaging aperture for {key[0]}/{key[1]}; known: {known}") from None


@functools.cache
def _siaf(instrument: str) -> Any:
    import logging

    # pysiaf logs a warning at import when it cannot reach its web page; the
    # coefficients it ships are used either way
    logging.getLogger("pysiaf").setLevel(logging.ERROR)
    import pysiaf

    return pysiaf.Siaf(_PYSIAF_NAMES[instrument])


def siaf_aperture(instrument: str, name: str) -> Any:
    """Return pysiaf's aperture object (with its coefficients and transforms).

    Parameters
    ----------
    instrument : str
        ``NIRCAM``, ``NIRISS`` or ``MIRI`` (any case).
    name : str
        SIAF aperture name, e.g. ``"NRCA1_FULL"``.

    Returns
    -------
    pysiaf.JwstAperture
    """
    return _siaf(instrument.upper())[name]


def _terms(coefficients: np.ndarray, degree: int):
    """``(coefficient, power of x, power of y)`` of each SIAF term, in order.

    Term k is ``x**(i - j) * y**j`` for ``i <= degree``, ``j <= i``.
    """
    k = 0
    for i in range(degree + 1):
        for j in range(i + 1):
            yield float(coefficients[k]), i - j, j
            k += 1


def _polynomial(coefficients: np.ndarray, degree: int, name: str) -> Any:
    """A Polynomial2D from SIAF coefficients (see :func:`_terms`)."""
    from astropy.modeling.models import Polynomial2D

    terms = {f"c{px}_{py}": c for c, px, py in _terms(coefficients, degree)}
    return Polynomial2D(degree, name=name, **terms)


def _ideal_to_telescope(ap: Any) -> Any:
    from astropy.modeling.models import AffineTransformation2D

    angle = np.deg2rad(ap.V3IdlYAngle)
    parity = ap.VIdlParity
    matrix = [[parity * np.cos(angle), np.sin(angle)], [-parity * np.sin(angle), np.cos(angle)]]
    return AffineTransformation2D(matrix=matrix, translation=[ap.V2Ref, ap.V3Ref], name="idl2v2v3")


def distortion_transform(instrument: str, detector: str) -> Any:
    """Return the detector -> V2, V3 transform of a detector, with its inverse.

    Parameters
    ----------
    instrument, detector : str
        Names, any case.

    Returns
    -------
    astropy.modeling.Model
        Two inputs (0-based x, y of the full-frame science-oriented image) and
        two outputs (V2, V3 in arcsec). Its ``inverse`` is built from the SIAF
        Idl2Sci polynomials.
    """
    from astropy.modeling.models import Mapping, Shift

    ap = siaf_aperture(instrument, aperture(instrument, detector).name)
    coeffs = ap.get_polynomial_coefficients()
    degree = int(ap.Sci2IdlDeg)
    to_one_based = Shift(1) & Shift(1)
    to_reference = Shift(-ap.XSciRef) & Shift(-ap.YSciRef)
    sci2idl = Mapping((0, 1, 0, 1)) | (
        _polynomial(coeffs["Sci2IdlX"], degree, "sci2idl_x")
        & _polynomial(coeffs["Sci2IdlY"], degree, "sci2idl_y")
    )
    idl2sci = Mapping((0, 1, 0, 1)) | (
        _polynomial(coeffs["Idl2SciX"], degree, "idl2sci_x")
        & _polynomial(coeffs["Idl2SciY"], degree, "idl2sci_y")
    )
    idl2tel = _ideal_to_telescope(ap)
    forward = to_one_based | to_reference | sci2idl | idl2tel
    backward = (
        idl2tel.inverse
        | idl2sci
        | (Shift(ap.XSciRef) & Shift(ap.YSciRef))
        | (Shift(-1) & Shift(-1))
    )
    forward.inverse = backward
    forward.name = f"{ap.AperName}_distortion"
    return forward


def _derivative_terms(coefficients: np.ndarray, degree: int, x: np.ndarray, y: np.ndarray):
    """Partial derivatives d/dx and d/dy of a SIAF polynomial at (x, y)."""
    xp = [np.ones_like(x)]
    yp = [np.ones_like(y)]
    for _ in range(degree):
        xp.append(xp[-1] * x)
        yp.append(yp[-1] * y)
    dx = np.zeros_like(x)
    dy = np.zeros_like(x)
    for c, px, py in _terms(coefficients, degree):
        if c == 0.0:
            continue
        if px:
            dx += (c * px) * (xp[px - 1] * yp[py])
        if py:
            dy += (c * py) * (xp[px] * yp[py - 1])
    return dx, dy


def _derivative_grid(coefficients: np.ndarray, degree: int, x: np.ndarray, y: np.ndarray):
    """:func:`_derivative_terms` on the grid of columns ``x`` and rows ``y`` (1-D), as (ny, nx).

    The terms separate: each derivative is (powers of y) @ (coefficients) @ (powers of x).
    """
    xpow = np.vander(x, degree + 1, increasing=True).T  # (degree + 1, nx)
    ypow = np.vander(y, degree + 1, increasing=True)  # (ny, degree + 1)
    cx = np.zeros((degree + 1, degree + 1))  # [power of y, power of x]
    cy = np.zeros((degree + 1, degree + 1))
    for c, px, py in _terms(coefficients, degree):
        if px:
            cx[py, px - 1] += c * px
        if py:
            cy[py - 1, px] += c * py
    return ypow @ cx @ xpow, ypow @ cy @ xpow


def ideal_pixel_area(instrument: str, detector: str, rows: slice, cols: slice) -> tuple[np.ndarray, float]:
    """Return the pixel area map of a detector region and the nominal pixel area.

    The area of a pixel is the absolute Jacobian determinant of the Sci2Idl
    polynomials at its centre (the rotation to V2, V3 keeps areas).

    Parameters
    ----------
    instrument, detector : str
        Names, any case.
    rows, cols : slice
        The full-frame region (0-based, step 1).

    Returns
    -------
    (numpy.ndarray, float)
        The area of each pixel relative to the nominal one (float32,
        ``(nrows, ncols)``), and the nominal area in square arcseconds: the area
        of the pixel at the aperture's reference point.
    """
    ap = siaf_aperture(instrument, aperture(instrument, detector).name)
    coeffs = ap.get_polynomial_coefficients()
    degree = int(ap.Sci2IdlDeg)

    def jacobian(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        xr, yr = xs + 1.0 - ap.XSciRef, ys + 1.0 - ap.YSciRef
        ax, ay = _derivative_terms(coeffs["Sci2IdlX"], degree, xr, yr)
        bx, by = _derivative_terms(coeffs["Sci2IdlY"], degree, xr, yr)
        return np.abs(ax * by - ay * bx)

    nominal = float(jacobian(np.array([ap.XSciRef - 1.0]), np.array([ap.YSciRef - 1.0]))[0])
    xr = np.arange(cols.start, cols.stop, dtype=np.float64) + 1.0 - ap.XSciRef
    yr = np.arange(rows.start, rows.stop, dtype=np.float64) + 1.0 - ap.YSciRef
    ax, ay = _derivative_grid(coeffs["Sci2IdlX"], degree, xr, yr)
    bx, by = _derivative_grid(coeffs["Sci2IdlY"], degree, xr, yr)
    return (np.abs(ax * by - ay * bx) / nominal).astype(np.float32), nominal
