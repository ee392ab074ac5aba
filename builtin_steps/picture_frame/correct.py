"""Scale and subtract the NIRSpec thermal "picture frame" pattern (pure numpy).

The reference is a rate image of the thermal background alone. Its medians over
background pixels in a central square (m_cref) and in the frame of edge strips
(m_eref) fix the pattern's contrast. For each image to correct (ramp group
minus first group, or a rate) with medians m_c and m_e over the same pixels::

    scale      = (m_c - m_e) / (m_cref - m_eref)
    correction = scale * (pattern - m_eref) + m_e

and the correction is subtracted.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LOWER_EDGE_REGION", "UPPER_EDGE_REGION", "CENTER_REGION", "region_masks", "picture_frame_correction"]

#: Rows/columns [start, stop) of the lower and left edge strips.
LOWER_EDGE_REGION = (4, 75)
#: Rows/columns [start, stop) of the upper and right edge strips.
UPPER_EDGE_REGION = (1985, 2043)
#: Rows and columns [start, stop) of the central square.
CENTER_REGION = (76, 1984)


def region_masks(background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Background pixels of the central square and of the edge frame.

    Parameters
    ----------
    background : numpy.ndarray of bool
        ``(ny, nx)`` background mask (full frame).

    Returns
    -------
    center, edge : numpy.ndarray of bool
        The edge frame excludes the 4-pixel reference border.
    """
    ny, nx = background.shape
    y = np.arange(ny)[:, None]
    x = np.arange(nx)[None, :]
    c0, c1 = CENTER_REGION
    center = background & (y >= c0) & (y < c1) & (x >= c0) & (x < c1)
    lo0, lo1 = LOWER_EDGE_REGION
    up0, up1 = UPPER_EDGE_REGION
    inside = (y >= lo0) & (y < up1) & (x >= lo0) & (x < up1)
    strips = (
        ((y >= lo0) & (y < lo1)) | ((y >= up0) & (y < up1)) | ((x >= lo0) & (x < lo1)) | ((x >= up0) & (x < up1))
    )
    return center, background & strips & inside


def picture_frame_correction(
    images: np.ndarray, pattern: np.ndarray, center: np.ndarray, edge: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the correction for each image and its scale.

    Parameters
    ----------
    images : numpy.ndarray
        ``(..., ny, nx)`` images to correct (group differences or rates).
    pattern : numpy.ndarray
        ``(ny, nx)`` reference picture-frame rate image (used as float32).
    center, edge : numpy.ndarray of bool
        Regions from :func:`region_masks` (each with at least one pixel).

    Returns
    -------
    correction : numpy.ndarray
        float32, shape of ``images``.
    scale : numpy.ndarray
        Scale per image, shape ``images.shape[:-2]``.
    """
    pattern = np.asarray(pattern, dtype=np.float32)
    m_cref = np.nanmedian(pattern[center])
    m_eref = np.nanmedian(pattern[edge])
    m_c = np.nanmedian(images[..., center], axis=-1)
    m_e = np.nanmedian(images[..., edge], axis=-1)
    scale = (m_c - m_e) / (m_cref - m_eref)
    # float32 throughout, in this order: the same numbers as jwst's
    correction = scale[..., None, None] * (pattern - m_eref) + m_e[..., None, None]
    return correction.astype(np.float32), scale
