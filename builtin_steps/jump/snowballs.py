"""Snowball flagging for the near-infrared detectors (``expand_large_events``).

A snowball is a large cosmic-ray event: a roughly circular area of jumps,
usually around a core that saturates.  The two-point-difference detection only
flags the pixels whose jump is significant; the faint halo around them is
missed.  For every integration and every group after the first,
:func:`flag_snowballs`

1. finds the regions of JUMP_DET pixels in the group with a filled area of at
   least ``min_jump_area`` pixels and the regions of *newly* saturated pixels
   (saturated in the group but not in the previous one) of at least
   ``min_sat_area``, each described by its moment ellipse
   (:mod:`builtin_steps.jump.shapes`);
2. keeps the jump regions that are snowballs: with ``sat_required_snowball``
   (the default) a jump region is a snowball when the centre of a newly
   saturated region of this group or of the next group lies inside its
   ellipse, or when its centre is within ``edge_size`` pixels of the detector
   edge (where the core may be off the detector; as in JWST the far edges are
   both taken at ``nrows - edge_size``); without it every large jump region is
   a snowball;
3. (with ``sat_required_snowball``) grows every newly saturated core whose
   minor axis is above ``min_sat_radius_extend`` by ``sat_expand`` pixels of
   radius and flags the grown core SATURATED (and no longer JUMP_DET) in this
   group and all later groups of the integration; the core itself is
   remembered for the next integration;
4. flags JUMP_DET in the ellipse of every snowball, enlarged by
   ``expand_factor`` (both axes grow by ``expand_factor - 1`` times the minor
   axis, up to twice ``max_extended_radius``), in this group, on every pixel
   not flagged SATURATED.

Finally, with ``mask_snowball_core_next_int``, the saturated cores of an
integration are flagged JUMP_DET in groups ``1 .. n - 1`` of the next
integration, ``n = min(snowball_time_masked_next_int // group_time, ngroups)``
(the persistence of the core).

This needs whole frames, so it runs after the detection on the full frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from builtin_steps.jump.shapes import Ellipse, ellipse_pixels, expanded_axes, fit_ellipses

__all__ = ["SnowballOptions", "flag_snowballs"]


@dataclass(frozen=True)
class SnowballOptions:
    """The snowball parameters, in the units :func:`flag_snowballs` uses.

    Attributes
    ----------
    min_sat_area, min_jump_area, expand_factor, sat_required_snowball,
    min_sat_radius_extend, edge_size, max_extended_radius
        The JWST jump parameters of the same names.
    sat_expand : float
        Pixels added to the radius of an extended saturated core.
    core_groups_next_int : int
        ``snowball_time_masked_next_int // group_time``; 0 (or
        ``mask_snowball_core_next_int`` False) turns the next-integration
        masking off.
    """

    min_sat_area: float = 1.0
    min_jump_area: float = 5.0
    expand_factor: float = 2.0
    sat_required_snowball: bool = True
    min_sat_radius_extend: float = 2.5
    sat_expand: float = 2.0
    edge_size: int = 25
    max_extended_radius: float = 200.0
    core_groups_next_int: int = 0


def flag_snowballs(
    groupdq: np.ndarray,
    options: SnowballOptions,
    *,
    jump_flag: int = 4,
    sat_flag: int = 2,
) -> int:
    """Flag snowballs in place (see the module docstring).

    Parameters
    ----------
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        Group flags after jump detection, modified in place.
    options : SnowballOptions
        The snowball parameters.
    jump_flag, sat_flag : int
        The JUMP_DET and SATURATED bits.

    Returns
    -------
    int
        The number of snowballs flagged.
    """
    nints, ngroups, ny, nx = groupdq.shape
    max_axis = 2.0 * options.max_extended_radius
    cores = np.zeros((nints, ny, nx), dtype=bool)
    total = 0
    for integ in range(nints):
        cube = groupdq[integ]
        for group in range(1, ngroups):
            saturated = (cube[group] & sat_flag) != 0
            new_sat = saturated & ((cube[group - 1] & sat_flag) == 0)
            sat_cores = fit_ellipses(new_sat, options.min_sat_area)
            jumps = fit_ellipses(cube[group] & jump_flag, options.min_jump_area)
            if options.sat_required_snowball:
                next_cores: list[Ellipse] = []
                if group < ngroups - 1:
                    next_new = ((cube[group + 1] & sat_flag) != 0) & ~saturated
                    next_cores = fit_ellipses(next_new, options.min_sat_area)
                snowballs = _with_core(jumps, sat_cores + next_cores, options.edge_size, ny)
                _extend_saturation(cube, group, sat_cores, options, cores[integ], jump_flag, sat_flag)
            else:
                snowballs = jumps
            total += len(snowballs)
            for ball in snowballs:
                axes = expanded_axes(ball, options.expand_factor, max_axis)
                rows, cols = ellipse_pixels(ball, (ny, nx), axes)
                plane = cube[group]
                free = (plane[rows, cols] & sat_flag) == 0
                plane[rows[free], cols[free]] |= np.uint8(jump_flag)
    if options.core_groups_next_int >= 1:
        last = min(options.core_groups_next_int, ngroups)
        for integ in range(1, nints):
            rows, cols = np.nonzero(cores[integ - 1])
            groupdq[integ, 1:last, rows, cols] |= np.uint8(jump_flag)
    return total


def _with_core(jumps: list[Ellipse], cores: list[Ellipse], edge_size: int, nrows: int) -> list[Ellipse]:
    """The jump regions near the frame edge or with a core's centre inside their ellipse.

    As in JWST, the far edge is ``nrows - edge_size`` for both coordinates, and the
    core's offset, in (column, row), is rotated by ``180 deg`` minus the ellipse's
    orientation before it is compared with the semi-axes, the major one along the
    first coordinate (the plain test for circles; JWST's convention for elongated
    regions, kept for the same results).
    """
    if not jumps:
        return []
    x, y, major, minor, orientation = (np.array(values) for values in zip(*jumps))
    far = max(0, nrows - edge_size)
    keep = (x < edge_size) | (y < edge_size) | (x > far) | (y > far)
    if cores:
        cx, cy = np.array([core.x for core in cores]), np.array([core.y for core in cores])
        angle = np.radians(180.0 - np.degrees(orientation))
        c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
        step = max(1, 1_000_000 // len(cores))  # bounded temporaries
        for lo in range(0, len(jumps), step):
            part = slice(lo, lo + step)
            dx, dy = cx[None, :] - x[part, None], cy[None, :] - y[part, None]
            along = dx * c[part] - dy * s[part]
            across = dx * s[part] + dy * c[part]
            with np.errstate(divide="ignore", invalid="ignore"):
                distance = (along / (0.5 * major[part, None])) ** 2 + (
                    across / (0.5 * minor[part, None])
                ) ** 2
            keep[part] |= (distance <= 1.0).any(axis=1)
    return [jump for jump, kept in zip(jumps, keep) if kept]


def _extend_saturation(
    cube: np.ndarray,
    group: int,
    sat_cores: list[Ellipse],
    options: SnowballOptions,
    persist: np.ndarray,
    jump_flag: int,
    sat_flag: int,
) -> None:
    """Grow the large new saturated cores into this and the later groups; note the cores."""
    shape = cube.shape[-2:]
    max_axis = 2.0 * options.max_extended_radius
    grow = 2.0 * options.sat_expand
    keep = np.uint8(0xFF ^ jump_flag)
    for core in sat_cores:
        if core.minor <= options.min_sat_radius_extend:
            continue
        axes = (min(core.major + grow, max_axis), min(core.minor + grow, max_axis))
        rows, cols = ellipse_pixels(core, shape, axes)
        later = cube[group:, rows, cols]
        cube[group:, rows, cols] = (later & keep) | np.uint8(sat_flag)
        persist[ellipse_pixels(core, shape)] = True
