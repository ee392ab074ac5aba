"""The encircled energy of the synthetic stars, as a resampled image shows them.

The demo and test scenes draw every star as a circular Gaussian of
:data:`PSF_SIGMA` pixels sampled at pixel centres
(:func:`builtin_steps.refdata.ramps.scene`). In a mosaic made by ``resample``
(square kernel, ``pixfrac`` 1, native pixel scale) each output pixel averages the
input pixels it overlaps, a convolution by a triangle of half-width one pixel per
axis; circular-aperture photometry on pixels then adds one more pixel box. The
star a catalog measures is therefore the Gaussian convolved, along each axis, with
box * box * box, the quadratic B-spline (variance 1/4 pixel\\ :sup:`2`).

:func:`encircled_energy` integrates that profile over discs; :func:`ee_radius`
inverts it; :func:`aperture_correction` is the factor from an aperture's
background-subtracted flux to the total flux, the background being measured in a
sky annulus (which holds a little of the star's light), as the JWST ``apcorr``
reference files define it. Pure numpy; nothing here reads or writes files.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PSF_SIGMA", "encircled_energy", "ee_radius", "aperture_correction"]

#: Sigma of the synthetic stars' Gaussian profile, detector pixels.
PSF_SIGMA = 1.2

_STEP = 0.005  # pixels, grid of the 1-D profile and of the radial integral
_ANGLES = 96  # angles over one octant (the profile has the square's symmetry)


def _profile(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(x, p(x)): the 1-D Gaussian convolved with the quadratic B-spline, unit area."""
    reach = 8.0 * sigma + 1.5
    x = np.arange(-reach, reach + _STEP / 2, _STEP)
    gauss = np.exp(-0.5 * (x / sigma) ** 2)
    ax = np.abs(x)
    spline = np.where(ax <= 0.5, 0.75 - ax**2, np.where(ax <= 1.5, 0.5 * (1.5 - ax) ** 2, 0.0))
    spline = spline[np.abs(x) <= 1.5 + _STEP / 2]
    profile = np.convolve(gauss, spline, mode="same")
    return x, profile / (profile.sum() * _STEP)


def encircled_energy(radii: np.ndarray | float, sigma: float = PSF_SIGMA) -> np.ndarray:
    """Return the fraction of a synthetic star's light within discs of the given radii.

    Parameters
    ----------
    radii : float or array-like
        Disc radii, pixels (non-negative).
    sigma : float, optional
        Gaussian sigma, pixels (default :data:`PSF_SIGMA`).

    Returns
    -------
    numpy.ndarray
        Encircled energy (0 to 1), same shape as ``radii``.
    """
    radii = np.asarray(radii, float)
    x, p = _profile(sigma)
    top = float(max(np.max(radii, initial=0.0), _STEP))
    rho = np.arange(_STEP / 2, top + _STEP, _STEP)
    theta = (np.arange(_ANGLES) + 0.5) * (np.pi / 4) / _ANGLES
    px = np.interp(np.outer(rho, np.cos(theta)), x, p, left=0.0, right=0.0)
    py = np.interp(np.outer(rho, np.sin(theta)), x, p, left=0.0, right=0.0)
    ring = (px * py).mean(axis=1) * 2 * np.pi * rho * _STEP  # light in each annulus of width _STEP
    cumulative = np.concatenate([[0.0], np.cumsum(ring)])
    edges = np.concatenate([[0.0], rho + _STEP / 2])
    return np.interp(radii, edges, cumulative)


def ee_radius(fractions: np.ndarray | float, sigma: float = PSF_SIGMA) -> np.ndarray:
    """Return the radii enclosing the given fractions of a synthetic star's light.

    Parameters
    ----------
    fractions : float or array-like
        Encircled-energy fractions, 0 < fraction < 0.99.
    sigma : float, optional
        Gaussian sigma, pixels.

    Returns
    -------
    numpy.ndarray
        Radii, pixels, same shape as ``fractions``.
    """
    fractions = np.asarray(fractions, float)
    if np.any((fractions <= 0) | (fractions >= 0.99)):
        raise ValueError(f"encircled-energy fractions must be in (0, 0.99), got {fractions.tolist()}")
    grid = np.arange(0.0, 8.0 * sigma + 2.0, 0.01)
    return np.interp(fractions, encircled_energy(grid, sigma), grid)


def aperture_correction(radius: float, sky_in: float, sky_out: float, sigma: float = PSF_SIGMA) -> float:
    """Return total flux over the flux in an aperture less the annulus background.

    Parameters
    ----------
    radius : float
        Aperture radius, pixels.
    sky_in, sky_out : float
        Inner and outer radii of the sky annulus, pixels.
    sigma : float, optional
        Gaussian sigma, pixels.

    Returns
    -------
    float
        ``1 / (EE(r) - pi r**2 * b)``, ``b`` the star's mean light per pixel in the
        annulus: the factor that turns the measured flux into the total flux.
    """
    ee_r, ee_in, ee_out = encircled_energy(np.array([radius, sky_in, sky_out]), sigma)
    per_pixel = (ee_out - ee_in) / (np.pi * (sky_out**2 - sky_in**2))
    return float(1.0 / (ee_r - np.pi * radius**2 * per_pixel))
