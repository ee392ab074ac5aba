"""NaN (and infinite) ramp values are unusable samples, flagged and reported.

An all-NaN ramp used to pass silently (rate 100 % NaN, DQ without DO_NOT_USE).
JWST 3.0 flags nothing either: its C ramp fitter reads a NaN sample as 0, which
biases the slope of a partly-NaN ramp and gives a rate of 0 for an all-NaN one.
steppe's ramp fit treats a non-finite sample as a DO_NOT_USE group: a pixel with
no usable group left gets a NaN rate and DO_NOT_USE, exactly as for a ramp flagged
DO_NOT_USE; one WARNING names the step, the input and the share of science pixels.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from builtin_steps.pipelines.detector1 import Detector1Pipeline
from builtin_steps.ramp_fit.ols import fit_ramps
from pipeline_core.datamodels import open_model
from tests.e2e._samples import STEM, UNCAL, step_overrides

DO_NOT_USE, REFERENCE_PIXEL = 1, 2**31
COLUMNS = slice(4, 64)  # the sample's science columns: its mask flags columns 0-3 REFERENCE_PIXEL


@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


@pytest.fixture
def clean_rate():
    return Detector1Pipeline.call(str(UNCAL["rampmodel"]), steps=step_overrides())


def _ramp():
    return open_model(str(UNCAL["rampmodel"]))


def _science(rate):
    return (rate.dq & REFERENCE_PIXEL) == 0


def _warnings(caplog):
    """The warnings about the input's values (a reference CRDS answers N/A for warns too)."""
    return [
        r for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("steppe") and "reference file applies" not in r.getMessage()
    ]


def test_an_all_nan_ramp_is_flagged_and_reported_once(caplog):
    ramp = _ramp()
    ramp.data[...] = np.nan
    rate = Detector1Pipeline.call(ramp, steps=step_overrides())
    science = _science(rate)
    assert np.isnan(rate.data).all()
    assert ((rate.dq[science] & DO_NOT_USE) != 0).all()
    (warning,) = _warnings(caplog)
    assert warning.name == "steppe.ramp_fit"
    total = int(science.sum())
    assert warning.getMessage() == (
        f"Step ramp_fit: no science pixel of '{STEM}_uncal.fits' has a usable ramp: {total} of "
        f"{total} science pixels (100 %) are unusable (every group DO_NOT_USE, saturated from "
        f"the first group, or NaN/infinite; {total} of them have NaN or infinite values). The "
        "rate is NaN everywhere; check the input and its reference files."
    )


def test_nan_rows_are_do_not_use_and_the_other_pixels_are_unchanged(caplog, clean_rate):
    ramp = _ramp()
    ramp.data[:, :, 10:20, COLUMNS] = np.nan
    rate = Detector1Pipeline.call(ramp, steps=step_overrides())
    assert np.isnan(rate.data[10:20, COLUMNS]).all()
    assert ((rate.dq[10:20, COLUMNS] & DO_NOT_USE) != 0).all()
    np.testing.assert_array_equal(rate.data[30:], clean_rate.data[30:])
    np.testing.assert_array_equal(rate.dq[30:], clean_rate.dq[30:])
    science = _science(clean_rate)
    unusable = np.isnan(clean_rate.data) & science
    unusable[10:20, COLUMNS] = True
    total, unusable = int(science.sum()), int(unusable.sum())
    (warning,) = _warnings(caplog)
    assert warning.getMessage() == (
        f"Step ramp_fit: 600 of {total} science pixels ({100 * 600 / total:.1f} %) of "
        f"'{STEM}_uncal.fits' have NaN or infinite values; those groups are treated as "
        f"DO_NOT_USE. {unusable} science pixels ({100 * unusable / total:.1f} %) have no usable "
        "ramp (rate NaN, DQ DO_NOT_USE)."
    )


def test_a_nan_group_counts_as_a_do_not_use_group():
    flagged, nan = _ramp(), _ramp()
    flagged.groupdq[:, 2, 20:30, COLUMNS] |= DO_NOT_USE
    nan.data[:, 2, 20:30, COLUMNS] = np.nan
    expected = Detector1Pipeline.call(flagged, steps=step_overrides())
    rate = Detector1Pipeline.call(nan, steps=step_overrides())
    assert np.isfinite(rate.data[20:30, COLUMNS]).mean() > 0.9  # the other four groups are fitted
    np.testing.assert_array_equal(rate.data, expected.data)
    np.testing.assert_array_equal(rate.dq, expected.dq)


def test_the_kernel_treats_infinite_values_as_do_not_use():
    data = np.cumsum(np.full((1, 5, 2, 3), 10.0, dtype=np.float32), axis=1)
    data[0, :, 0, 0] = np.inf
    data[0, 3, 1, 1] = -np.inf
    groupdq = np.zeros(data.shape, dtype=np.uint8)
    ones = np.ones((2, 3), dtype=np.float32)
    out = fit_ramps(data, groupdq, np.zeros((2, 3), np.uint32), ones, ones,
                    group_time=10.0, frame_time=10.0)
    assert np.isnan(out["rate"][0, 0]) and out["rate_dq"][0, 0] & DO_NOT_USE
    assert out["rate"][1, 1] == pytest.approx(1.0) and not out["rate_dq"][1, 1] & DO_NOT_USE
    assert np.allclose(out["rate"][np.isfinite(out["rate"])], 1.0)
    assert not groupdq.any()  # the caller's flags are not changed
