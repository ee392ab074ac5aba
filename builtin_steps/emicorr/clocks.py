"""MIRI readout timing: when each pixel is read, in 10 microsecond pixel clocks.

The four MIRI outputs read four neighbouring columns at once, so the read
time of a pixel depends on its row and on its column divided by 4 (its
"quad column"). Within a row the quad columns are ``nsamples`` clocks apart
(1 in FAST mode, 9 in SLOW); rows are ``rowclocks`` apart; a frame (one
group) takes ``ny * rowclocks`` plus the clocks of the ``1024 - ny`` rows a
subarray skips (7 each); ``FASTR1``/``SLOWR1`` exposures add a reset frame of
``frameclocks`` between integrations.

An EMI sinusoid of frequency ``f`` has a period of ``1 / f / 10 us`` pixel
clocks; its phase at a pixel is the fractional part of (read time / period).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PIXEL_CLOCK_SECONDS", "SUBARRAY_CLOCKS", "ReadoutClock", "period_in_clocks"]

#: Duration of one pixel clock.
PIXEL_CLOCK_SECONDS = 10.0e-6

#: Row and reset-frame clocks of the MIRI subarrays (``FULL_FAST``/``FULL_SLOW``
#: for full frame), used when the correction is built without a reference file.
SUBARRAY_CLOCKS: dict[str, tuple[int, int]] = {
    "SLITLESSPRISM": (28, 15904),
    "MASKLYOT": (90, 32400),
    "SUB64": (28, 8512),
    "SUB128": (44, 11904),
    "MASK1140": (82, 23968),
    "MASK1550": (82, 23968),
    "MASK1065": (82, 23968),
    "FULL_FAST": (271, 277504),
    "FULL_SLOW": (2333, 2388992),
    "BRIGHTSKY": (162, 86528),
    "SUB256": (96, 29952),
}

#: Rows of the full MIRI detector and clocks of each row a subarray skips.
_DETECTOR_ROWS = 1024
_SKIPPED_ROW_CLOCKS = 4 + 3


def period_in_clocks(frequency: float) -> float:
    """Period of a frequency (Hz) in pixel clocks.

    Parameters
    ----------
    frequency : float
        Hz, positive.

    Returns
    -------
    float
    """
    return (1.0 / frequency) / PIXEL_CLOCK_SECONDS


@dataclass(frozen=True)
class ReadoutClock:
    """Readout timing of one exposure.

    Attributes
    ----------
    ny : int
        Rows of the data.
    nsamples : int
        Clocks between quad columns of a row (1 FAST, 9 SLOW).
    rowclocks : float
        Clocks between rows.
    reset_clocks : float
        Clocks of the reset frame between integrations (``frameclocks`` for
        ``FASTR1``/``SLOWR1``, else 0).
    """

    ny: int
    nsamples: int
    rowclocks: float
    reset_clocks: float

    @property
    def frame_clocks(self) -> float:
        """float: clocks from one group to the next."""
        return self.ny * self.rowclocks + (_DETECTOR_ROWS - self.ny) * _SKIPPED_ROW_CLOCKS

    def integration_clocks(self, ngroups: int) -> float:
        """Clocks from one integration to the next.

        Parameters
        ----------
        ngroups : int
            Groups per integration.

        Returns
        -------
        float
        """
        return ngroups * self.frame_clocks + self.reset_clocks

    def frame_times(self, nx4: int, *, last_column_delay: float = 0.0) -> np.ndarray:
        """Read time of every pixel of a frame, from the frame's first pixel.

        Parameters
        ----------
        nx4 : int
            Quad columns (columns / 4).
        last_column_delay : float
            Extra clocks of the last quad column (a right-hand reference pixel
            is read ``3`` clocks late).

        Returns
        -------
        numpy.ndarray
            ``(ny, nx4)`` float64 clocks.
        """
        times = (
            np.arange(self.ny, dtype=np.float64)[:, None] * self.rowclocks
            + np.arange(nx4, dtype=np.float64)[None, :] * self.nsamples
        )
        if last_column_delay:
            times[:, -1] += last_column_delay
        return times

    def phases(
        self,
        frame_times: np.ndarray,
        period: float,
        *,
        integration: int,
        ngroups: int,
    ) -> np.ndarray:
        """Phase (0 to 1) of a sinusoid at every read of one integration.

        Times are counted from the first pixel of the exposure's first
        integration, so phases of successive integrations continue each other.

        Parameters
        ----------
        frame_times : numpy.ndarray
            ``(ny, nx4)`` from :meth:`frame_times`.
        period : float
            Period in clocks.
        integration : int
            Integration (0-based) in the exposure.
        ngroups : int
            Groups per integration.

        Returns
        -------
        numpy.ndarray
            ``(ngroups, ny, nx4)`` float64 in ``[0, 1)``.
        """
        start = integration * self.integration_clocks(ngroups)
        group_starts = start + np.arange(ngroups, dtype=np.float64) * self.frame_clocks
        # Reduce the large offsets modulo the period first: the per-pixel sum stays small
        # and the fractional phase keeps its precision in long exposures.
        offsets = np.mod(group_starts, period)
        cycles = (offsets[:, None, None] + frame_times[None]) / period
        return cycles - np.floor(cycles)
