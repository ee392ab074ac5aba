"""The jump step's kernel for one block of rows (run by ``map_row_slices``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps.jump.neighbors import flag_after_jumps, flag_four_neighbors
from builtin_steps.jump.twopoint import DO_NOT_USE, JUMP_DET, detect_jumps, flag_jumps_and_neighbors

__all__ = ["NO_GAIN_VALUE", "bad_gain_flags", "detect_jumps_in_block"]

NO_GAIN_VALUE = 1 << 19


def bad_gain_flags(gain: np.ndarray) -> np.ndarray:
    """NO_GAIN_VALUE | DO_NOT_USE where the gain is not positive (or NaN), else 0."""
    return np.where(gain > 0, np.uint32(0), np.uint32(NO_GAIN_VALUE | DO_NOT_USE))


def detect_jumps_in_block(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    after_jump_rules: list[tuple[float, int]] = (),  # type: ignore[assignment]
    **options: Any,
) -> dict[str, np.ndarray]:
    """Detect, count and flag the jumps of a block of rows: the jump step's kernel.

    The kernel :func:`~pipeline_core.parallel.map_row_slices` runs for the jump step
    (outside ``sigma_clip`` mode), with ``halo=1``:
    :func:`~builtin_steps.jump.twopoint.detect_jumps`, the count of new jumps, the
    four neighbours of the jumps in range
    (:func:`~builtin_steps.jump.neighbors.flag_four_neighbors`) and the groups after
    large jumps (:func:`~builtin_steps.jump.neighbors.flag_after_jumps`); in
    ``iterative`` mode the first three are one compiled pass
    (:func:`~builtin_steps.jump.twopoint.flag_jumps_and_neighbors`). A row's
    flags depend on the rows next to it (their jumps flag it as a neighbour), so
    the block must hold one row more on each side than the rows it is asked for;
    the results of those outer rows are incomplete and dropped. Called on whole
    arrays, it gives the same result.

    Parameters
    ----------
    data, groupdq, gain, readnoise : numpy.ndarray
        A block of rows, as for :func:`~builtin_steps.jump.twopoint.detect_jumps`.
    pixeldq : ndarray of uint32, shape (ny, nx)
        Pixel flags of the block.
    after_jump_rules : list of (float, int), optional
        The ``rules`` of :func:`~builtin_steps.jump.neighbors.flag_after_jumps`
        (none by default).
    **options
        The keyword arguments of :func:`~builtin_steps.jump.twopoint.detect_jumps`.

    Returns
    -------
    dict of str to numpy.ndarray
        ``groupdq``: the new group flags; ``pixeldq``: the pixel flags with
        NO_GAIN_VALUE | DO_NOT_USE added where the gain is not positive;
        ``new_jumps``: shape ``(ny, 1)``, the number of new JUMP_DET flags (before
        neighbour and after-jump flagging) of each row.
    """
    gain = np.asarray(gain, dtype=np.float32)
    if options.get("mode", "iterative") == "iterative":
        search = {key: value for key, value in options.items() if key not in ("mode", "only_use_ints")}
        new, new_jumps = flag_jumps_and_neighbors(data, groupdq, gain, readnoise, **search)
        new_jumps = new_jumps[:, None]
    else:
        new, new_jumps = _detect_then_flag(data, groupdq, gain, readnoise, options)
    if after_jump_rules:
        flag_after_jumps(
            new, data, gain, readnoise, nframes=options.get("nframes", 1), rules=list(after_jump_rules)
        )
    return {
        "groupdq": new,
        "pixeldq": pixeldq | bad_gain_flags(gain),
        "new_jumps": new_jumps,
    }


def _detect_then_flag(data, groupdq, gain, readnoise, options):
    """:func:`detect_jumps`, the count of new jumps of each row, then the neighbours."""
    result = detect_jumps(data, groupdq, gain, readnoise, **options)
    new = result["groupdq"]
    ny, nx = new.shape[-2:]
    # detection only adds flags: the JUMP_DET bits that differ are the new jumps
    changed = ((new ^ groupdq) & JUMP_DET).reshape(-1, ny, nx)
    per_pixel = np.add.reduce(changed, axis=0, dtype=np.uint32)
    new_jumps = (per_pixel.sum(axis=-1, dtype=np.int64) // JUMP_DET)[:, None]
    if options.get("flag_4_neighbors", True):
        flag_four_neighbors(new, result["neighbor_seed"])
    return new, new_jumps


def warm_up() -> None:
    """Load the compiled jump search for the array types the step passes it.

    Called on tiny ramps (a whole array, and rows of one, as the step's blocks
    are), so that a later call on real data finds the kernel ready; see
    :func:`builtin_steps._jit.warm_up_in_background`.
    """
    ramp = np.zeros((1, 4, 3, 2), np.float32)
    flags = np.zeros(ramp.shape, np.uint8)
    pixels = np.zeros((3, 2), np.uint32)
    ones = np.ones((3, 2), np.float32)
    detect_jumps_in_block(ramp, flags, pixels, ones, ones)
    detect_jumps_in_block(ramp[:, :, 1:], flags[:, :, 1:], pixels[1:], ones[1:], ones[1:])
