"""Detector orientation: views that turn science (DMS) arrays into detector frame.

Science products are flipped or rotated so that every detector has the same
sky orientation. The reference-pixel correction works in the detector's own
frame (readout amplifiers are vertical stripes there), so it looks at the data
through these views. All transforms are views: writing to them writes to the
science array.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FULL_SIZE", "orientation", "to_detector", "detector_coordinates"]

#: Size of a near-infrared detector, in pixels, including the reference border.
FULL_SIZE = 2048

_ORIENTATION = {
    **dict.fromkeys(("NRCA1", "NRCA3", "NRCALONG", "NRCB2", "NRCB4", "GUIDER2"), "flipx"),
    **dict.fromkeys(("NRCA2", "NRCA4", "NRCB1", "NRCB3", "NRCBLONG"), "flipy"),
    "NRS1": "swap",
    "NRS2": "swap_rot180",
    "NIS": "swap_rot180",
    "GUIDER1": "rot180",
}


def orientation(detector: str | None) -> str:
    """Return the name of the science-to-detector transform of a detector.

    Parameters
    ----------
    detector : str or None
        ``meta.instrument.detector`` (e.g. ``"NRCA3"``).

    Returns
    -------
    str
        One of ``"identity"``, ``"flipx"``, ``"flipy"``, ``"swap"``,
        ``"swap_rot180"``, ``"rot180"``; ``"identity"`` for unknown detectors.
    """
    return _ORIENTATION.get((detector or "").upper(), "identity")


def to_detector(array: np.ndarray, kind: str) -> np.ndarray:
    """Return a view of ``array`` (last two axes rows, columns) in detector frame.

    Parameters
    ----------
    array : numpy.ndarray
        ``(..., ny, nx)`` array in science orientation.
    kind : str
        Transform name from :func:`orientation`.

    Returns
    -------
    numpy.ndarray
        A view; for transposing transforms the last two axes are swapped.
    """
    if kind == "flipx":
        return array[..., :, ::-1]
    if kind == "flipy":
        return array[..., ::-1, :]
    if kind == "swap":
        return np.swapaxes(array, -1, -2)
    if kind == "swap_rot180":
        return np.swapaxes(array[..., ::-1, ::-1], -1, -2)
    if kind == "rot180":
        return array[..., ::-1, ::-1]
    return array


def detector_coordinates(rows: np.ndarray, cols: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Map full-frame science coordinates (0-based) to detector coordinates.

    Parameters
    ----------
    rows, cols : numpy.ndarray
        0-based full-frame row and column indices in science orientation.
    kind : str
        Transform name from :func:`orientation`.

    Returns
    -------
    tuple of numpy.ndarray
        Detector ``(rows, cols)``.
    """
    last = FULL_SIZE - 1
    if kind == "flipx":
        return rows, last - cols
    if kind == "flipy":
        return last - rows, cols
    if kind == "swap":
        return cols, rows
    if kind == "swap_rot180":
        return last - cols, last - rows
    if kind == "rot180":
        return last - rows, last - cols
    return rows, cols
