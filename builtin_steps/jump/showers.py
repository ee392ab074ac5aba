"""Shower flagging for MIRI (``find_showers``).

A cosmic-ray shower on MIRI leaves faint extended emission, each pixel of it
far below the jump threshold.  :func:`flag_showers` finds it by smoothing the
significance of every group difference over a ring:

1. groups flagged JUMP_DET, SATURATED or DO_NOT_USE are left out, and the
   first differences are taken in electrons;
2. the significance of a difference is ``|diff - median| / sigma``: with fewer
   than ``minimum_sigclip_groups`` integrations the median is that of all the
   pixel's differences and ``sigma = sqrt(|median| + (g R)^2 / nframes)``; with
   more, median and standard deviation are the 5-sigma clipped statistics of
   that group difference across integrations;
3. for every integration and every group after its first usable one, the
   significance image, with the pixels flagged JUMP_DET, SATURATED or
   DO_NOT_USE in that group (or in PIXELDQ) and the reference pixels left out,
   is convolved with a ring (``astropy.convolution.Ring2DKernel`` of inner
   radius ``extend_inner_radius`` and width ``extend_outer_radius``, as in
   JWST), normalised over the pixels present (pixels beyond the frame edge
   count as zeros);
4. the connected regions above ``extend_snr_threshold`` with a filled area of
   at least ``extend_min_area`` pixels are showers; each is flagged JUMP_DET in its
   ellipse enlarged by ``extend_ellipse_expand_ratio`` (up to twice
   ``max_extended_radius``), in its group and the ``time_masked_after_shower //
   group_time`` groups after it, on every pixel not SATURATED (all showers are
   found first, then flagged);
5. a pixel whose mean group difference in the integration changes by more
   than ``max_shower_amplitude`` (DN/s, times the group time) once the shower
   flags are taken into account, or becomes undefined, gets its flags of that
   integration back as they were.

Exposures with fewer than 10 usable group differences in all are left alone.
This needs whole frames, so it runs after the detection on the full frame.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from builtin_steps.jump.shapes import Ellipse, ellipse_pixels, expanded_axes, fit_ellipses
from builtin_steps.jump.twopoint import count_unusable_groups

__all__ = ["MIN_SHOWER_DIFFS", "ShowerOptions", "flag_showers", "usable_differences"]

#: Fewest usable group differences (all integrations) for shower detection.
MIN_SHOWER_DIFFS = 10

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4
REFERENCE_PIXEL = 1 << 31


@dataclass(frozen=True)
class ShowerOptions:
    """The shower parameters, in the units :func:`flag_showers` uses.

    Attributes
    ----------
    extend_snr_threshold, extend_min_area, extend_inner_radius, extend_outer_radius,
    extend_ellipse_expand_ratio, max_extended_radius, minimum_sigclip_groups
        The JWST jump parameters of the same names.
    groups_masked_after : int
        ``time_masked_after_shower // group_time``.
    max_amplitude : float
        ``max_shower_amplitude * group_time``: largest change of a pixel's mean
        group difference (DN) that shower flagging may cause.
    nframes : int
        Frames per group.
    """

    extend_snr_threshold: float = 1.2
    extend_min_area: float = 90.0
    extend_inner_radius: float = 1.0
    extend_outer_radius: float = 2.6
    extend_ellipse_expand_ratio: float = 1.1
    max_extended_radius: float = 200.0
    minimum_sigclip_groups: int = 100
    groups_masked_after: int = 0
    max_amplitude: float = np.inf
    nframes: int = 1


def usable_differences(groupdq: np.ndarray) -> int:
    """Group differences of the exposure, less the groups DO_NOT_USE in every pixel."""
    nints, ngroups = groupdq.shape[:2]
    return nints * (ngroups - 1) - count_unusable_groups(groupdq)


def flag_showers(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    options: ShowerOptions,
) -> tuple[np.ndarray, int]:
    """Find and flag showers (see the module docstring).

    Parameters
    ----------
    data : ndarray, shape (nints, ngroups, ny, nx)
        Ramps in DN.
    groupdq : ndarray of uint8, same shape
        Group flags after jump detection; not modified.
    pixeldq : ndarray of uint32, shape (ny, nx)
        Pixel flags.
    gain, readnoise : ndarray, shape (ny, nx)
        Gain (e-/DN) and two-read read noise (DN).
    options : ShowerOptions
        The shower parameters.

    Returns
    -------
    groupdq : ndarray of uint8
        The new group flags.
    count : int
        The number of showers flagged (0 when there are too few differences).
    """
    if usable_differences(groupdq) < MIN_SHOWER_DIFFS:
        return groupdq.copy(), 0
    nints, ngroups, ny, nx = data.shape
    gain = np.asarray(gain, dtype=np.float32)
    masked = (groupdq & (JUMP_DET | SATURATED | DO_NOT_USE)) != 0
    diffs = np.diff(np.where(masked, np.float32(np.nan), data * gain), axis=1)
    kernel = _ring(options.extend_inner_radius, options.extend_outer_radius)
    excluded_pixels = ((pixeldq & (JUMP_DET | SATURATED | DO_NOT_USE)) != 0) | (
        (pixeldq & REFERENCE_PIXEL) != 0
    )
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # empty slices and the NaN of flagged groups are expected (numpy, astropy)
        warnings.simplefilter("ignore")
        ratio = _significance(diffs, gain, readnoise, options)
        found: list[tuple[int, int, list[Ellipse]]] = []
        for integ in range(nints):
            first = _first_usable_group(groupdq[integ])
            for group in range(first + 1, ngroups):
                image = ratio(integ, group - 1).astype(np.float64)
                flagged_now = (groupdq[integ, group] & (JUMP_DET | SATURATED | DO_NOT_USE)) != 0
                image[excluded_pixels | flagged_now] = np.nan
                smooth = _normalized_convolution(image, kernel)
                showers = fit_ellipses(smooth > options.extend_snr_threshold, options.extend_min_area)
                if showers:
                    found.append((integ, group, showers))
    flagged = groupdq.copy()
    max_axis = 2.0 * options.max_extended_radius
    for integ, group, showers in found:
        last = min(group + options.groups_masked_after + 1, ngroups)
        for shower in showers:
            rows, cols = ellipse_pixels(
                shower, (ny, nx), expanded_axes(shower, options.extend_ellipse_expand_ratio, max_axis)
            )
            keep = (pixeldq[rows, cols] & REFERENCE_PIXEL) == 0
            rows, cols = rows[keep], cols[keep]
            block = flagged[integ, group:last, rows, cols]
            free = (block & SATURATED) == 0
            block[free] |= np.uint8(JUMP_DET)
            flagged[integ, group:last, rows, cols] = block
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        _limit_amplitude(data, groupdq, flagged, options.max_amplitude)
    return flagged, sum(len(showers) for _, _, showers in found)


def _ring(inner: float, width: float) -> np.ndarray:
    from astropy.convolution import Ring2DKernel

    return np.asarray(Ring2DKernel(inner, width).array, dtype=np.float64)


def _significance(diffs, gain, readnoise, options):
    """A function ``(integration, difference) -> |diff - median| / sigma`` image."""
    nints = diffs.shape[0]
    if nints >= options.minimum_sigclip_groups:
        from astropy.stats import sigma_clipped_stats

        _, median, stddev = sigma_clipped_stats(diffs, sigma=5, axis=0)
        median = np.asarray(median)
        stddev = np.asarray(stddev)
        return lambda i, d: np.abs(diffs[i, d] - median[d]) / stddev[d]
    median = np.nanmedian(diffs, axis=(0, 1))
    rn_e = np.asarray(readnoise, dtype=np.float64) * gain
    sigma = np.sqrt(np.abs(median) + rn_e**2 / options.nframes)
    return lambda i, d: np.abs(diffs[i, d] - median) / sigma


def _first_usable_group(cube: np.ndarray) -> int:
    """First group of an integration not DO_NOT_USE in every pixel (0 if none)."""
    for group in range(cube.shape[0]):
        if not np.all(cube[group] & DO_NOT_USE):
            return group
    return 0


def _normalized_convolution(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve, ignoring NaN pixels (re-normalised), NaN where the input is NaN.

    Pixels beyond the frame edge count as present, with value zero (as in JWST).
    """
    from scipy import ndimage

    good = np.isfinite(image)
    smooth = ndimage.convolve(np.where(good, image, 0.0), kernel, mode="constant", cval=0.0)
    norm = ndimage.convolve(good.astype(np.float64), kernel, mode="constant", cval=1.0)
    good &= norm > 1e-3 * kernel.mean()
    smooth = smooth / np.where(good, norm, 1.0)
    smooth[~good] = np.nan
    return smooth


def _limit_amplitude(data, before, after, max_amplitude):
    """Undo the shower flags of pixels whose mean difference moves too much, in place."""
    bad = JUMP_DET | SATURATED | DO_NOT_USE
    for integ in range(data.shape[0]):
        means = []
        for flags in (before[integ], after[integ]):
            values = np.where((flags & bad) != 0, np.nan, data[integ].astype(np.float64))
            means.append(np.nanmean(np.diff(values, axis=0), axis=0))
        change = np.abs(means[0] - means[1])
        revert = ~np.isfinite(change) | (change > max_amplitude)
        after[integ][:, revert] = before[integ][:, revert]
