"""A synthetic HgCdTe detector: the per-pixel truth behind the embedded reference files.

Every map is a deterministic function of the detector name and the pixel's
full-frame position, so a subarray reference file is exactly the cut-out of the
full-frame one, and the demo ramps are made from the same truth as the
references that calibrate them.

The numbers follow a JWST near-infrared detector in orders of magnitude: bias
about 12000 DN with amplifier offsets, column and row structure; dark current
about 0.005 e-/s with a few warm and hot pixels; gain about 2 e-/DN per
amplifier; read noise (correlated double sample) about 10 DN; saturation about
60000 DN (raw, bias included); a classical non-linearity with a small quadratic
term; a few dead pixels; and the 4-pixel border of reference pixels.

The MIRI imager (Si:As, ``instrument="MIRI"``) is 1032 x 1024 pixels with four
reference columns on each side, its four outputs read neighbouring columns
(column modulo 4), its gain is about 5.5 e-/DN, its dark current about
0.1 e-/s, saturation about 55000 DN; it has no superbias step, so its
non-linearity applies to the raw value, and its ramps start with the reset
anomaly (:meth:`DetectorTruth.reset_anomaly`).

Per-pixel randomness is drawn in blocks of :data:`BLOCK_ROWS` full-frame rows,
each from its own seed, so a subarray only pays for the rows it covers.
"""

from __future__ import annotations

import zlib
from functools import cached_property

import numpy as np

__all__ = [
    "FULL_SIZE",
    "BLOCK_ROWS",
    "REFERENCE_BORDER",
    "DARK_CURRENT",
    "DetectorTruth",
]

#: Pixels on a side of a full-frame detector.
FULL_SIZE = 2048

#: Rows per block of seeded random numbers.
BLOCK_ROWS = 16

#: Width of the reference-pixel border of the full frame.
REFERENCE_BORDER = 4

#: Typical dark current of a normal pixel, in electrons per second.
DARK_CURRENT = 0.005

_AMP_WIDTH = FULL_SIZE // 4
_AMP_GAIN = np.array([2.05, 1.98, 2.02, 1.95])  # e-/DN
_AMP_READNOISE = np.array([9.6, 10.3, 10.0, 9.8])  # DN, CDS
_AMP_BIAS = np.array([-250.0, 120.0, 310.0, -90.0])  # DN around 12000
_AMP_DARK = np.array([0.9, 1.1, 1.0, 0.95])  # times DARK_CURRENT
_WARM_FRACTION = 2e-3
_HOT_FRACTION = 3e-4
_DEAD_FRACTION = 3e-4

_MIRI_SHAPE = (1024, 1032)
_MIRI_REFERENCE_COLUMNS = 4
_MIRI_GAIN = np.array([5.5, 5.45, 5.6, 5.5])  # e-/DN
_MIRI_BIAS = 8000.0  # DN, the raw level of the first read
_MIRI_DARK_CURRENT = 0.1  # e-/s
_MIRI_SATURATION = 55000.0  # DN
_MIRI_RESET = (60.0, 20.0, 1.6)  # DN in integration 1, later integrations; decay in groups

# Names of the independent random fields (each has its own seed).
_FIELDS = ("gain", "readnoise", "bias", "dark", "defects", "saturation", "linearity", "reset")


class DetectorTruth:
    """The per-pixel properties of one synthetic detector.

    Parameters
    ----------
    instrument : str
        Upper-case instrument name, part of the seed.
    detector : str
        Upper-case detector name, part of the seed.
    rows, cols : slice
        The full-frame region (0-based, step 1) the maps are computed for.

    Notes
    -----
    All maps are float32 (DQ maps uint32) of shape ``(nrows, ncols)``, computed
    lazily and cached on the instance.
    """

    def __init__(self, instrument: str, detector: str, rows: slice, cols: slice) -> None:
        self.instrument = instrument.upper()
        self.detector = detector.upper()
        self.miri = self.instrument == "MIRI"
        self.full_shape = _MIRI_SHAPE if self.miri else (FULL_SIZE, FULL_SIZE)
        self.rows = slice(rows.start or 0, rows.stop if rows.stop is not None else self.full_shape[0])
        self.cols = slice(cols.start or 0, cols.stop if cols.stop is not None else self.full_shape[1])
        self.y = np.arange(self.rows.start, self.rows.stop)[:, None]
        self.x = np.arange(self.cols.start, self.cols.stop)[None, :]
        self.shape = (self.y.shape[0], self.x.shape[1])

    # -- random fields --------------------------------------------------------------
    def _seed(self, name: str, block: int) -> int:
        key = f"{self.instrument}/{self.detector}/{name}/{block}".encode()
        return zlib.crc32(key)

    def _uniform(self, name: str) -> np.ndarray:
        """Uniform [0, 1) numbers for the region, from per-block seeds."""
        first = self.rows.start // BLOCK_ROWS
        last = (self.rows.stop - 1) // BLOCK_ROWS
        blocks = [
            np.random.default_rng(self._seed(name, b)).random((BLOCK_ROWS, self.full_shape[1]), np.float32)
            for b in range(first, last + 1)
        ]
        strip = np.concatenate(blocks, axis=0)
        offset = first * BLOCK_ROWS
        return strip[self.rows.start - offset : self.rows.stop - offset, self.cols]

    def _normal(self, name: str) -> np.ndarray:
        """Standard normal numbers for the region (Box-Muller on two uniform fields)."""
        u1 = self._uniform(name + "/u1")
        u2 = self._uniform(name + "/u2")
        u1 = np.maximum(u1, np.float32(1e-7))
        return (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)

    def _column_normal(self, name: str) -> np.ndarray:
        """One standard normal number per full-frame column, shape (1, ncols)."""
        values = np.random.default_rng(self._seed(name, -1)).standard_normal(self.full_shape[1])
        return values[self.cols].astype(np.float32)[None, :]

    def _amp(self, per_amp: np.ndarray) -> np.ndarray:
        """A value per output: MIRI outputs read columns modulo 4, NIR ones 512-column stripes."""
        index = self.x % 4 if self.miri else self.x // _AMP_WIDTH
        return per_amp[index].astype(np.float32)

    # -- pixel classes ----------------------------------------------------------------
    @cached_property
    def reference_pixels(self) -> np.ndarray:
        """True on the 4-pixel border of the full frame (MIRI: 4 columns on each side)."""
        if self.miri:
            b, nx = _MIRI_REFERENCE_COLUMNS, self.full_shape[1]
            return np.broadcast_to((self.x < b) | (self.x >= nx - b), self.shape).copy()
        b = REFERENCE_BORDER
        rows = (self.y < b) | (self.y >= FULL_SIZE - b)
        cols = (self.x < b) | (self.x >= FULL_SIZE - b)
        return np.broadcast_to(rows | cols, self.shape).copy()

    @cached_property
    def _defect_draw(self) -> np.ndarray:
        return self._uniform("defects")

    @cached_property
    def dead(self) -> np.ndarray:
        """Pixels with no response (flagged DEAD and DO_NOT_USE in the mask)."""
        return (self._defect_draw < _DEAD_FRACTION) & ~self.reference_pixels

    @cached_property
    def hot(self) -> np.ndarray:
        """Pixels with a dark current of 5 to 100 e-/s (flagged HOT)."""
        d = self._defect_draw
        return (d >= _DEAD_FRACTION) & (d < _DEAD_FRACTION + _HOT_FRACTION) & ~self.reference_pixels

    @cached_property
    def warm(self) -> np.ndarray:
        """Pixels with a dark current of 0.05 to 1 e-/s (flagged WARM in the dark)."""
        d = self._defect_draw
        low = _DEAD_FRACTION + _HOT_FRACTION
        return (d >= low) & (d < low + _WARM_FRACTION) & ~self.reference_pixels

    # -- maps ---------------------------------------------------------------------------
    @cached_property
    def gain(self) -> np.ndarray:
        """Gain in e-/DN: per amplifier, 1 % pixel-to-pixel scatter."""
        amps = _MIRI_GAIN if self.miri else _AMP_GAIN
        return (self._amp(amps) * (1 + 0.01 * self._normal("gain"))).astype(np.float32)

    @cached_property
    def readnoise(self) -> np.ndarray:
        """Correlated-double-sample read noise in DN (per amplifier, 0.4 DN scatter)."""
        noise = self._amp(_AMP_READNOISE) + 0.4 * self._normal("readnoise")
        return np.maximum(noise, 5.0).astype(np.float32)

    @cached_property
    def bias(self) -> np.ndarray:
        """Superbias in DN: 12000 + amplifier offsets + column, row and pixel structure."""
        columns = 8.0 * self._column_normal("bias/columns") + 3.0 * ((self.x % 2) * 2 - 1)
        rows = 40.0 * np.sin(self.y / 300.0) + 0.01 * self.y
        pixels = 15.0 * self._normal("bias")
        if self.miri:
            return (_MIRI_BIAS + 0.5 * self._amp(_AMP_BIAS) + columns + pixels).astype(np.float32)
        return (12000.0 + self._amp(_AMP_BIAS) + columns + rows + pixels).astype(np.float32)

    @cached_property
    def dark_current(self) -> np.ndarray:
        """Dark current in e-/s: per amplifier for normal pixels, 0 for reference and dead ones."""
        typical = _MIRI_DARK_CURRENT if self.miri else DARK_CURRENT
        rate = typical * self._amp(_AMP_DARK) * np.ones(self.shape, np.float32)
        spread = self._uniform("dark")
        rate = np.where(self.warm, 0.05 + 0.95 * spread, rate)
        rate = np.where(self.hot, 5.0 + 95.0 * spread, rate)
        rate = np.where(self.reference_pixels | self.dead, 0.0, rate)
        return rate.astype(np.float32)

    @cached_property
    def dark_signal_rate(self) -> np.ndarray:
        """Dark signal in DN/s: the dark current over the amplifier's mean gain.

        The dark reference files hold this rate times the frame times; the demo
        ramps accumulate it.
        """
        amps = _MIRI_GAIN if self.miri else _AMP_GAIN
        return (self.dark_current / self._amp(amps)).astype(np.float32)

    @cached_property
    def saturation(self) -> np.ndarray:
        """Saturation level in raw DN (bias included), about 60000; NaN on reference pixels."""
        level = (_MIRI_SATURATION if self.miri else 60000.0) + 600.0 * self._normal("saturation")
        level = np.minimum(level, 64500.0)
        return np.where(self.reference_pixels, np.nan, level).astype(np.float32)

    @cached_property
    def linearity(self) -> np.ndarray:
        """Linearity correction coefficients, shape (5, ny, nx).

        The corrected signal is ``sum(c[i] * s**i)`` for a bias-subtracted signal
        ``s`` in DN: ``c0 = 0``, ``c1 = 1``, a quadratic term of about 1e-6
        (about 4 % at 40000 DN) and small cubic and quartic terms. MIRI data keep
        their bias, so the MIRI polynomial applies to the raw value and its
        quadratic term is 2e-7.
        """
        c2 = (2.0e-7 if self.miri else 1.0e-6) * (1 + 0.05 * self._normal("linearity"))
        coeffs = np.empty((5, *self.shape), np.float32)
        coeffs[0] = 0.0
        coeffs[1] = 1.0
        coeffs[2] = c2
        coeffs[3] = 2.0e-12
        coeffs[4] = 5.0e-18
        return coeffs

    def reset_anomaly(self, nints: int, ngroups: int) -> np.ndarray:
        """MIRI reset anomaly in DN, ``(nints, ngroups, ny, nx)``: what the RESET file holds.

        An offset that decays over the first groups of each integration, larger
        in the first integration, 10 % pixel-to-pixel scatter; zero on the
        reference columns.
        """
        first, later, decay = _MIRI_RESET
        scatter = 1 + 0.1 * self._normal("reset")
        scatter = np.where(self.reference_pixels, 0.0, scatter)
        amplitude = np.array([first] + [later] * (nints - 1), np.float32)[:, None]
        shape = amplitude * np.exp(-np.arange(ngroups, dtype=np.float32) / decay)[None, :]
        return (shape[:, :, None, None] * scatter[None, None]).astype(np.float32)
