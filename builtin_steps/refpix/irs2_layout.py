"""Geometry of NIRSpec IRS2 readouts.

In IRS2 ("improved reference sampling and subtraction") mode each detector
row, in the detector frame, is 3200 values wide: five 640-value sections, the
reference output followed by the four amplifiers. Inside a section the
readout takes ``scipix_n // 2`` normal pixels, then repeatedly ``refpix_r``
interleaved reference pixels and ``scipix_n`` normal pixels, and ends with
``scipix_n // 2`` normal pixels (16 and 4 by default: 512 normal and 128
reference values). Sections 0, 2 and 4 are read right to left.

Put in time order, each jump to or from the reference pixels costs one pixel
time and each row ends with ``pad`` idle pixel times, so a row lasts
``(scipix_n + refpix_r + 2) * 512 // scipix_n + pad`` (712) pixel times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["IRS2_WIDTH", "NSECTIONS", "Irs2Layout", "irs2_normal_mask", "is_irs2_shape"]

#: Width of a full IRS2 row in the detector frame.
IRS2_WIDTH = 3200
#: Sections in a row: the reference output and four amplifiers.
NSECTIONS = 5
_NORMAL_PER_SECTION = 512


def is_irs2_shape(shape: tuple[int, ...]) -> bool:
    """Tell whether an image shape is an IRS2 readout (an axis longer than 2048).

    Parameters
    ----------
    shape : tuple of int
        Array shape; the last two axes are the image.

    Returns
    -------
    bool
    """
    return max(shape[-1], shape[-2]) > 2048


def irs2_normal_mask(width: int = IRS2_WIDTH, scipix_n: int = 16, refpix_r: int = 4) -> np.ndarray:
    """Boolean mask of the normal pixels along an IRS2 row (detector frame).

    The reference-output section is False, and so are the interleaved
    reference pixels; the 2048 True values are the image pixels.

    Parameters
    ----------
    width : int
        Row width (3200).
    scipix_n, refpix_r : int
        Normal and reference samples per block (``NRS_NORM``, ``NRS_REF``).

    Returns
    -------
    numpy.ndarray
        ``(width,)`` boolean.
    """
    section = width // NSECTIONS
    one = np.ones(section, dtype=bool)
    period = scipix_n + refpix_r
    for start in range(scipix_n // 2, section, period):
        one[start : start + refpix_r] = False
    mask = np.ones(width, dtype=bool)
    mask[:section] = False
    for k in range(1, NSECTIONS):
        # sections 2 and 4 are read in the other direction
        mask[k * section : (k + 1) * section] = one if k % 2 == 1 else one[::-1]
    return mask


@dataclass(frozen=True)
class Irs2Layout:
    """Index arrays that place one section's values on the time axis.

    Parameters
    ----------
    scipix_n, refpix_r : int
        Normal and reference samples per block.
    pad : int
        Idle pixel times at the end of each row.
    """

    scipix_n: int = 16
    refpix_r: int = 4
    pad: int = 8

    @property
    def row(self) -> int:
        """int: Pixel times per row (712 by default)."""
        return (self.scipix_n + self.refpix_r + 2) * _NORMAL_PER_SECTION // self.scipix_n + self.pad

    @property
    def nblocks(self) -> int:
        """int: Reference blocks per section row (32 by default)."""
        return _NORMAL_PER_SECTION // self.scipix_n

    def normal(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the normal pixels: in the section (read order) and in time.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``(512,)`` section positions and time positions.
        """
        n, r = self.scipix_n, self.refpix_r
        ind = np.arange(_NORMAL_PER_SECTION)
        blocks = (ind + n // 2) // n
        return ind + r * blocks, ind + (r + 2) * blocks

    def reference(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the interleaved reference pixels: in the section and in time.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``(nblocks * refpix_r,)`` section positions and time positions.
        """
        n, r = self.scipix_n, self.refpix_r
        ind = np.arange(self.nblocks * r)
        blocks = ind // r
        return ind + n * blocks + n // 2, ind + (n + 2) * blocks + n // 2 + 1

    def spread(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each block's reference reads are copied to on the time axis.

        Every block of ``refpix_r`` reference reads is widened to
        ``2 * refpix_r`` time positions (the reads, the jumps and the first
        and last neighbouring normal positions), pairs of reads repeated in
        an interleaved order, so that the reference time series covers the
        whole transition.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            Target time positions and the time positions whose values they take.
        """
        n, r = self.scipix_n, self.refpix_r
        width = n + r + 2
        grid = np.arange(self.nblocks * width).reshape(self.nblocks, width)
        lo, hi = (n - r) // 2 + 1, n // 2 + 1 + 3 * r // 2
        targets = grid[:, lo:hi]
        order = np.arange(r).reshape(2, r // 2).T  # [[0, 2], [1, 3]] for r = 4
        picks = np.concatenate((order, order), axis=1).ravel() + n // 2 + 1
        sources = grid.copy()
        sources[:, n // 2 + 1 - r // 2 : n // 2 + 1 + r // 2 + r] = grid[:, picks]
        sources = sources[:, lo:hi].ravel()
        if r % 4 == 2:
            sources = sources.reshape(-1, 2)[:, ::-1].ravel()
        return targets.ravel(), sources

    def all_times(self) -> np.ndarray:
        """Time positions of all of a section's values, in section order.

        Returns
        -------
        numpy.ndarray
            ``(640,)`` increasing time positions (normal and reference).
        """
        return np.sort(np.concatenate((self.normal()[1], self.reference()[1])))
