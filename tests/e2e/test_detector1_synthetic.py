"""Detector1 end to end on synthetic ramps with known truth, through the embedded CRDS set."""

from __future__ import annotations

import numpy as np

from builtin_steps.pipelines.detector1 import Detector1Pipeline
from builtin_steps.refdata import layout
from builtin_steps.refdata.demo import make_ramp
from builtin_steps.refdata.detector import DetectorTruth
from pipeline_core.datamodels import RampModel

RATE = 40.0  # e-/s, flat scene


def _readout(name: str) -> layout.Subarray:
    (sub,) = [s for s in layout.NIRCAM.subarrays if s.name == name]
    return sub


def _uncal(tmp_path, *, readout, nints=2, ngroups=10, seed=11):
    truth = DetectorTruth("NIRCAM", "NRCA1", *readout.slices)
    rng = np.random.default_rng(seed)
    rate = np.full(truth.shape, RATE)
    data = make_ramp(truth, rate, rng, frame_time=readout.frame_time, nints=nints, ngroups=ngroups)
    model = RampModel(data=data)
    meta = model.meta
    meta.instrument.name, meta.instrument.detector = "NIRCAM", "NRCA1"
    meta.observation.date, meta.observation.time = "2024-01-01", "00:00:00.000"
    exp = meta.exposure
    exp.type, exp.readpatt = "NRC_IMAGE", "RAPID"
    exp.nints, exp.ngroups, exp.nframes, exp.groupgap = nints, ngroups, 1, 0
    exp.frame_divisor, exp.noutputs = 1, readout.noutputs
    exp.frame_time = exp.group_time = readout.frame_time
    exp.zero_frame = False
    sub = meta.subarray
    sub.name, sub.xstart, sub.ystart = readout.name, readout.xstart, readout.ystart
    sub.xsize, sub.ysize = readout.xsize, readout.ysize
    path = tmp_path / "jw01234001001_01101_00001_nrca1_uncal.fits"
    model.save(str(path))
    return str(path), truth


def test_flat_scene_rate_is_unbiased_and_errors_calibrated(crds_env, tmp_path):
    path, truth = _uncal(tmp_path, readout=_readout("SUB160"))
    rate = Detector1Pipeline.call(path, save_results=True, output_dir=str(tmp_path))
    for key in ("dq_init", "saturation", "superbias", "refpix", "linearity", "dark_sub", "jump", "ramp_fit"):
        assert getattr(rate.meta.cal_step, key) == "COMPLETE", key
    assert rate.meta.ref_file.crds.context_used.startswith("jwst_")
    expected = RATE / truth.gain  # DN/s; the dark step removes the dark current
    clean = (rate.dq == 0) & ~truth.reference_pixels
    assert clean.mean() > 0.9
    rel = (rate.data[clean] - expected[clean]) / expected[clean]
    assert abs(np.median(rel)) < 5e-3
    pull = (rate.data[clean] - expected[clean]) / rate.err[clean]
    assert 0.9 < np.std(pull) < 1.1
    assert (tmp_path / "jw01234001001_01101_00001_nrca1_rate.fits").exists()
    assert (tmp_path / "jw01234001001_01101_00001_nrca1_rateints.fits").exists()

