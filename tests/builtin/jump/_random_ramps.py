"""Random ramps for the jump search tests: cosmic rays, flagged groups, NaN, inf and bad gains."""

from __future__ import annotations

import numpy as np

#: (bit, fraction of groups) of the group flags set at random by default.
FLAGS = ((1, 0.02), (2, 0.02), (4, 0.01))


def random_ramps(rng, nints, ngroups, ny=29, nx=41, flags=FLAGS):
    """``(data, groupdq, gain, readnoise)``: float32 ramps with jumps and the odd values a search meets."""
    rate = rng.gamma(2.0, 30.0, (ny, nx))
    data = rng.normal(0, 5, (nints, ngroups, ny, nx)) + np.arange(ngroups)[None, :, None, None] * rate
    hits = rng.random(data.shape) < 0.04
    data += np.cumsum(hits * rng.uniform(30.0, 5000.0, data.shape), axis=1)
    data = data.astype(np.float32)
    data[0, 0, 0, :] = 0.0  # equal values: ties in the sort and the outlier search
    data[0, 1, 1, 1] = np.nan
    data[..., 2, 2] = np.inf if ngroups > 1 else 0.0
    gdq = np.zeros(data.shape, np.uint8)
    for bit, fraction in flags:
        gdq[rng.random(data.shape) < fraction] |= bit
    gain = rng.uniform(1.0, 3.0, (ny, nx)).astype(np.float32)
    gain[3, :3] = [0.0, np.nan, -2.0]
    readnoise = rng.uniform(4.0, 12.0, (ny, nx)).astype(np.float32)
    readnoise[4, 0] = 0.0
    return data, gdq, gain, readnoise
