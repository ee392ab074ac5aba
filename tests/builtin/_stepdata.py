"""Small ramps and reference files for the built-in step tests."""

from __future__ import annotations

import numpy as np

from pipeline_core.datamodels import (
    DarkModel,
    GainModel,
    LinearityModel,
    MaskModel,
    RampModel,
    ReadnoiseModel,
    SaturationModel,
    SuperBiasModel,
)

SHAPE = (1, 4, 8, 8)


def make_ramp(shape=SHAPE, *, value=1000.0, slope=10.0, detector="NRCA1", window=None):
    """A linear ramp with subarray metadata (default: an 8x8 subarray at 101, 201)."""
    nints, ngroups, ny, nx = shape
    data = value + slope * np.arange(ngroups, dtype=np.float32)[None, :, None, None]
    model = RampModel(data=np.broadcast_to(data, shape).astype(np.float32))
    meta = model.meta
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = detector
    meta.exposure.nints, meta.exposure.ngroups = nints, ngroups
    meta.exposure.nframes, meta.exposure.groupgap = 1, 0
    meta.exposure.frame_divisor = 1
    meta.exposure.noutputs = 1
    meta.exposure.readpatt = "RAPID"
    meta.exposure.type = "NRC_IMAGE"
    meta.exposure.group_time = meta.exposure.frame_time = 10.0
    meta.observation.date, meta.observation.time = "2024-01-01", "00:00:00"
    xstart, ystart = window or (101, 201)
    meta.subarray.name = "FULL" if (ny, nx) == (2048, 2048) else "SUBTEST"
    meta.subarray.xstart, meta.subarray.ystart = xstart, ystart
    meta.subarray.xsize, meta.subarray.ysize = nx, ny
    meta.filename = "test_uncal.fits"
    return model


def save_ref(tmp_path, model, reftype, name=None, window=None):
    """Save a reference model with the header a reference file carries; return its path."""
    model.meta.reftype = reftype.upper()
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    ny, nx = _image_shape(model)
    if window is None:
        # full-frame files start at (1, 1); smaller ones match make_ramp's default subarray
        window = (1, 1) if (ny, nx) == (2048, 2048) else (101, 201)
    model.meta.subarray.name = "FULL" if (ny, nx) == (2048, 2048) else "SUBTEST"
    model.meta.subarray.xstart, model.meta.subarray.ystart = window
    model.meta.subarray.xsize, model.meta.subarray.ysize = nx, ny
    path = tmp_path / (name or f"ref_{reftype}.fits")
    model.save(str(path))
    return str(path)


def _image_shape(model):
    for attr in ("data", "dq", "coeffs"):
        arr = getattr(model, attr, None)
        if arr is not None:
            return arr.shape[-2:]
    raise AssertionError("reference model without arrays")


def mask(tmp_path, dq, **kw):
    return save_ref(tmp_path, MaskModel(dq=np.asarray(dq, np.uint32)), "mask", **kw)


def saturation(tmp_path, data, dq=None, **kw):
    data = np.asarray(data, np.float32)
    dq = np.zeros(data.shape, np.uint32) if dq is None else np.asarray(dq, np.uint32)
    return save_ref(tmp_path, SaturationModel(data=data, dq=dq), "saturation", **kw)


def superbias(tmp_path, data, dq=None, **kw):
    data = np.asarray(data, np.float32)
    dq = np.zeros(data.shape, np.uint32) if dq is None else np.asarray(dq, np.uint32)
    return save_ref(tmp_path, SuperBiasModel(data=data, dq=dq, err=np.zeros_like(data)), "superbias", **kw)


def linearity(tmp_path, coeffs, dq=None, **kw):
    coeffs = np.asarray(coeffs, np.float32)
    dq = np.zeros(coeffs.shape[1:], np.uint32) if dq is None else np.asarray(dq, np.uint32)
    return save_ref(tmp_path, LinearityModel(coeffs=coeffs, dq=dq), "linearity", **kw)


def dark(tmp_path, data, *, nframes=1, groupgap=0, average=None, **kw):
    data = np.asarray(data, np.float32)
    model = DarkModel(data=data, dq=np.zeros(data.shape[-2:], np.uint32))
    model.meta.exposure.nframes, model.meta.exposure.groupgap = nframes, groupgap
    model.meta.exposure.ngroups = data.shape[-3]
    if average is not None:
        model.meta.exposure.average_dark_current = average
    return save_ref(tmp_path, model, "dark", **kw)


def gain(tmp_path, data, *, factor=None, **kw):
    model = GainModel(data=np.asarray(data, np.float32))
    if factor is not None:
        model.meta.exposure.gain_factor = factor
    return save_ref(tmp_path, model, "gain", **kw)


def readnoise(tmp_path, data, **kw):
    return save_ref(tmp_path, ReadnoiseModel(data=np.asarray(data, np.float32)), "readnoise", **kw)
