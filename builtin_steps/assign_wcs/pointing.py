"""The telescope attitude: from the V2/V3 frame to the sky, and the V1 pointing.

JWST gives an exposure's attitude by one point of the telescope's V2/V3 frame
(``V2_REF``, ``V3_REF``, arcsec; the aperture's reference point) and where it
points on the sky (``RA_REF``, ``DEC_REF``) with the position angle of the V3
axis there (``ROLL_REF``, degrees east of north). The transform from (V2, V3) to
(RA, Dec) is a sequence of five rotations of the unit sphere:

    about z by V2_REF, about y by -V3_REF (the reference point onto the x axis),
    about x by ROLL_REF (V3 onto north), about y by DEC_REF, about z by -RA_REF

(the same sequence, with the signs of the attitude matrix of JWST's SIAF
documentation, that pysiaf's ``attitude`` matrix encodes). The V1 axis pointing
(``RA_V1``, ``DEC_V1``, ``PA_V3``) is the same attitude given at V2 = V3 = 0;
:func:`reference_from_v1` moves it to the reference point.

Pure astropy modeling and numpy; nothing here knows about data models.
"""

from __future__ import annotations

import numpy as np

__all__ = ["v2v3_to_sky", "reference_from_v1", "position_angle", "dva_correction"]


def v2v3_to_sky(v2_ref: float, v3_ref: float, roll_ref: float, ra_ref: float, dec_ref: float):
    """Return the model from telescope (V2, V3, arcsec) to sky (RA, Dec, degrees).

    Parameters
    ----------
    v2_ref, v3_ref : float
        The reference point in the telescope frame, arcsec.
    roll_ref : float
        Position angle of V3 at the reference point, degrees east of north.
    ra_ref, dec_ref : float
        Where the reference point points, degrees.

    Returns
    -------
    astropy.modeling.Model
        Two inputs, two outputs; RA in [0, 360). Its inverse goes back.
    """
    from astropy.modeling.models import RotationSequence3D, Scale
    from gwcs.geometry import CartesianToSpherical, SphericalToCartesian

    angles = [v2_ref / 3600.0, -v3_ref / 3600.0, roll_ref, dec_ref, -ra_ref]
    rotation = RotationSequence3D(angles, axes_order="zyxyz")
    model = (
        (Scale(1 / 3600.0) & Scale(1 / 3600.0))
        | SphericalToCartesian(wrap_lon_at=180)
        | rotation
        | CartesianToSpherical(wrap_lon_at=360)
    )
    model.name = "v23tosky"
    return model


def position_angle(ra1: np.ndarray, dec1: np.ndarray, ra2: np.ndarray, dec2: np.ndarray) -> np.ndarray:
    """Position angle (degrees east of north, in [0, 360)) of point 2 seen from point 1.

    Parameters
    ----------
    ra1, dec1, ra2, dec2 : array_like
        Degrees.

    Returns
    -------
    numpy.ndarray
    """
    ra1, dec1, ra2, dec2 = (np.deg2rad(np.asarray(v, dtype=float)) for v in (ra1, dec1, ra2, dec2))
    dra = ra2 - ra1
    y = np.sin(dra) * np.cos(dec2)
    x = np.cos(dec1) * np.sin(dec2) - np.sin(dec1) * np.cos(dec2) * np.cos(dra)
    return np.rad2deg(np.arctan2(y, x)) % 360.0


def _rotation(angle: float, axis: str) -> np.ndarray:
    from astropy.coordinates.matrix_utilities import rotation_matrix

    return rotation_matrix(angle, axis)


def _sequence(angles: list[float], axes: str) -> np.ndarray:
    """The matrix of rotations applied in order (the first one rightmost)."""
    matrix = np.eye(3)
    for angle, axis in zip(angles, axes):
        matrix = _rotation(angle, axis) @ matrix
    return matrix


def reference_from_v1(
    ra_v1: float, dec_v1: float, pa_v3: float, v2_ref: float, v3_ref: float
) -> tuple[float, float, float]:
    """Return (RA_REF, DEC_REF, ROLL_REF) of a reference point from the V1 pointing.

    Parameters
    ----------
    ra_v1, dec_v1 : float
        Where the V1 axis (V2 = V3 = 0) points, degrees.
    pa_v3 : float
        Position angle of V3 at V1, degrees.
    v2_ref, v3_ref : float
        The reference point, arcsec.

    Returns
    -------
    (float, float, float)
        Its sky position and the roll angle there (degrees): the values for
        which :func:`v2v3_to_sky` at the reference point is the same attitude
        as at V1. The roll is read from the attitude matrix with the two
        rotations that bring the reference point to V1 taken out.
    """
    ra_ref, dec_ref = v2v3_to_sky(0.0, 0.0, pa_v3, ra_v1, dec_v1)(v2_ref, v3_ref)
    attitude = _sequence([pa_v3, dec_v1, -ra_v1], "xyz")
    to_reference = _sequence([v2_ref / 3600.0, -v3_ref / 3600.0], "zy")
    sky = _sequence([float(dec_ref), -float(ra_ref)], "yz")
    roll_matrix = sky.T @ attitude @ to_reference.T
    roll = float(np.rad2deg(np.arctan2(roll_matrix[1, 2], roll_matrix[1, 1]))) % 360.0
    return float(ra_ref), float(dec_ref), roll


def dva_correction(scale: float | None, v2_ref: float | None, v3_ref: float | None):
    """Return the differential velocity aberration correction in the V2/V3 plane.

    Parameters
    ----------
    scale : float or None
        The apparent over the true plate scale (``VA_SCALE``); None or 1: no
        correction.
    v2_ref, v3_ref : float or None
        The reference point (arcsec) about which the frame is scaled; None is 0.

    Returns
    -------
    astropy.modeling.Model
        ``Identity(2)``, or the scaling about the reference point.

    Raises
    ------
    ValueError
        For a scale that is not positive.
    """
    from astropy.modeling.models import Identity, Scale, Shift

    if scale is None or scale == 1:
        return Identity(2)
    if not scale > 0:
        raise ValueError(f"the velocity aberration scale must be positive, got {scale!r}")
    v2, v3 = v2_ref or 0.0, v3_ref or 0.0
    model = Scale(scale, name="dva_scale_v2") & Scale(scale, name="dva_scale_v3")
    if v2 or v3:
        model = model | (Shift((1 - scale) * v2, name="dva_v2_shift") & Shift((1 - scale) * v3, name="dva_v3_shift"))
    model.name = "DVA_Correction"
    return model
