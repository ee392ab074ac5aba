"""Synthetic MIRI ramps with an injected EMI sinusoid, and EMICORR reference files."""

from __future__ import annotations

import numpy as np

from pipeline_core.datamodels import EmiModel, RampModel

#: MASK1065 subarray clocks (row clocks, reset-frame clocks).
ROWCLOCKS, FRAMECLOCKS = 82, 23968
FREQ = 218.52055  # Hz
PERIOD = 1.0 / FREQ / 10e-6  # pixel clocks


def miri_ramp(shape=(2, 12, 32, 64), *, readpatt="FASTR1", subarray="MASK1065",
              detector="MIRIMAGE", noise=1.0, seed=0):
    """A MIRI ramp (bias + rate * group + Gaussian noise) and its clean truth."""
    rng = np.random.default_rng(seed)
    nints, ngroups, ny, nx = shape
    bias = rng.uniform(9000.0, 11000.0, (ny, nx))
    rate = rng.uniform(5.0, 50.0, (ny, nx))
    clean = bias + rate * np.arange(ngroups)[:, None, None]
    clean = np.broadcast_to(clean, shape) + rng.normal(0.0, noise, shape)
    model = RampModel(data=clean.astype(np.float32))
    meta = model.meta
    meta.instrument.name = "MIRI" if detector.startswith("MIR") else "NIRCAM"
    meta.instrument.detector = detector
    meta.exposure.readpatt = readpatt
    meta.exposure.nints, meta.exposure.ngroups = nints, ngroups
    meta.exposure.nsamples = 9 if "SLOW" in readpatt else 1
    meta.subarray.name = subarray
    meta.subarray.xstart, meta.subarray.ystart = 1, 1
    meta.subarray.xsize, meta.subarray.ysize = nx, ny
    meta.filename = "jw_test_mirimage_uncal.fits"
    return model, model.data.astype(np.float64)


def read_phases(shape, *, period=PERIOD, rowclocks=ROWCLOCKS, frameclocks=FRAMECLOCKS,
                nsamples=1, reset_frame=True):
    """Phase (cycles, not wrapped) of every read: 4 outputs read 4 columns at once."""
    nints, ngroups, ny, nx = shape
    frame = ny * rowclocks + (1024 - ny) * 7
    per_int = ngroups * frame + (frameclocks if reset_frame else 0)
    i = np.arange(nints)[:, None, None, None]
    g = np.arange(ngroups)[None, :, None, None]
    j = np.arange(ny)[None, None, :, None]
    k = (np.arange(nx) // 4)[None, None, None, :]
    return (i * per_int + g * frame + j * rowclocks + k * nsamples) / period


def sine_wave(phase):
    """The injected waveform: a unit sinusoid plus a second harmonic."""
    return np.sin(2 * np.pi * phase) + 0.3 * np.cos(4 * np.pi * phase)


def inject(model, amplitude, *, offset=0.1, **kw):
    """Add ``amplitude * sine_wave(phase + offset)``; return the EMI added."""
    emi = amplitude * sine_wave(read_phases(model.data.shape, **kw) + offset)
    model.data += emi.astype(np.float32)
    return emi


def emi_reference(tmp_path, *, nsamples=300, name="emicorr.asdf", freqs=None, cases=None):
    """An EMICORR reference (ASDF) whose waveform is ``sine_wave`` sampled at bin centres."""
    phase = (np.arange(nsamples) + 0.5) / nsamples
    freqs = freqs or {"Hz218a": {"frequency": FREQ, "phase_amplitudes": sine_wave(phase)}}
    cases = cases or {
        "MASK1065": {
            "rowclocks": ROWCLOCKS,
            "frameclocks": FRAMECLOCKS,
            "freqs": {"FAST": list(freqs), "SLOW": {"MIRIMAGE": list(freqs)}},
        }
    }
    ref = EmiModel(frequencies=freqs, subarray_cases=cases)
    ref.meta.instrument.name = "MIRI"
    path = tmp_path / name
    ref.save(str(path))
    return str(path)
