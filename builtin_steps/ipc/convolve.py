"""IPC kernel: convolve image planes with a deconvolution kernel, reference pixels excluded.

The IPC reference file holds the *deconvolution* kernel: convolving the
observed image with it removes the inter-pixel capacitance coupling. With a
kernel ``k`` of odd sizes ``(kny, knx)`` and centre ``(cy, cx)``, every
science pixel becomes::

    out[y, x] = sum_{j, i} k[j, i] * data[y + cy - j, x + cx - i]

where ``data`` outside the science region (the reference pixels and the area
beyond the image edge) counts as zero. A 4-D kernel ``k[j, i, y, x]`` gives
each pixel its own small kernel. Reference pixels are left unchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Borders", "reference_borders", "prepare_pixel_kernel", "convolve_planes"]

#: Width of the reference-pixel border of the 2048 x 2048 near-infrared detectors.
_NIR_BORDER = 4
_NIR_SIZE = 2048
#: MIRI has reference columns only: 4 at each side of its 1032 columns.
_MIRI_BORDER = 4
_MIRI_COLUMNS = 1032


class Borders(NamedTuple):
    """Numbers of reference rows and columns at each edge of an image.

    Attributes
    ----------
    bottom, top : int
        Reference rows at the start and the end of the row axis.
    left, right : int
        Reference columns at the start and the end of the column axis.
    """

    bottom: int
    top: int
    left: int
    right: int


def reference_borders(instrument: str, xstart: int, ystart: int, xsize: int, ysize: int) -> Borders:
    """Count the reference rows and columns a detector window contains.

    Parameters
    ----------
    instrument : str
        Instrument name; ``"MIRI"`` has reference columns only (4 at each side of
        its 1032 columns), the near-infrared detectors a 4-pixel border on all
        sides of 2048 x 2048.
    xstart, ystart : int
        First column and row of the window on the detector (1-based).
    xsize, ysize : int
        Window size.

    Returns
    -------
    Borders
        Never more than the window holds.
    """
    x0, y0 = xstart - 1, ystart - 1
    if instrument.upper() == "MIRI":
        bottom = top = 0
        left = max(0, _MIRI_BORDER - x0)
        right = max(0, x0 + xsize - (_MIRI_COLUMNS - _MIRI_BORDER))
    else:
        bottom = max(0, _NIR_BORDER - y0)
        top = max(0, y0 + ysize - (_NIR_SIZE - _NIR_BORDER))
        left = max(0, _NIR_BORDER - x0)
        right = max(0, x0 + xsize - (_NIR_SIZE - _NIR_BORDER))
    bottom, left = min(bottom, ysize), min(left, xsize)
    top, right = min(top, ysize - bottom), min(right, xsize - left)
    return Borders(bottom, top, left, right)


def prepare_pixel_kernel(kernel: np.ndarray) -> tuple[np.ndarray, int]:
    """Replace the per-pixel kernels that hold NaN by the identity kernel.

    Parameters
    ----------
    kernel : numpy.ndarray
        ``(kny, knx, ny, nx)`` per-pixel kernel (odd ``kny``, ``knx``).

    Returns
    -------
    (numpy.ndarray, int)
        The kernel as float32 (a copy when pixels were replaced), and the number
        of pixels whose kernel held NaN; those pixels are left uncorrected.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    bad = np.isnan(kernel).any(axis=(0, 1))
    count = int(bad.sum())
    if count:
        kernel = kernel.copy()
        kernel[:, :, bad] = 0.0
        kernel[kernel.shape[0] // 2, kernel.shape[1] // 2, bad] = 1.0
    return kernel, count


def convolve_planes(planes: np.ndarray, kernel: np.ndarray, borders: Borders) -> None:
    """Convolve every 2-D plane of ``planes`` with the IPC kernel, in place.

    Parameters
    ----------
    planes : numpy.ndarray
        ``(..., ny, nx)`` float array (e.g. the groups of one integration);
        its science region is replaced by the convolved values.
    kernel : numpy.ndarray
        ``(kny, knx)`` kernel, or ``(kny, knx, ny, nx)`` per-pixel kernel
        covering the whole image (reference pixels included); odd ``kny`` and
        ``knx``. Must hold no NaN (see :func:`prepare_pixel_kernel`).
    borders : Borders
        Reference rows and columns of the image, left unchanged.

    Notes
    -----
    A NaN science pixel stays NaN and counts as zero for its neighbours.
    """
    ny, nx = planes.shape[-2:]
    rows = slice(borders.bottom, ny - borders.top)
    cols = slice(borders.left, nx - borders.right)
    sny, snx = rows.stop - rows.start, cols.stop - cols.start
    if sny <= 0 or snx <= 0:
        return
    kny, knx = kernel.shape[:2]
    cy, cx = kny // 2, knx // 2
    science = planes[..., rows, cols]
    nan = np.isnan(science)
    padded = np.zeros(planes.shape[:-2] + (sny + kny - 1, snx + knx - 1), dtype=planes.dtype)
    padded[..., cy : cy + sny, cx : cx + snx] = science
    if nan.any():
        padded[..., cy : cy + sny, cx : cx + snx][nan] = 0.0
    else:
        nan = None
    per_pixel = kernel.ndim == 4
    if per_pixel:
        kernel = kernel[:, :, rows, cols]
    total = np.zeros(science.shape, dtype=planes.dtype)
    term = np.empty_like(total)
    # Smaller off-centre terms first, the (largest) centre term last.
    order = [(j, i) for j in range(kny) for i in range(knx) if (j, i) != (cy, cx)] + [(cy, cx)]
    for j, i in order:
        weight = kernel[j, i]
        if not per_pixel and weight == 0:
            continue
        shifted = padded[..., kny - 1 - j : kny - 1 - j + sny, knx - 1 - i : knx - 1 - i + snx]
        np.multiply(shifted, weight, out=term)
        total += term
    if nan is not None:
        total[nan] = np.nan
    planes[..., rows, cols] = total
