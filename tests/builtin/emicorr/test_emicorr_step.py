"""Tests of EmiCorrStep: an injected EMI sinusoid of known frequency is removed."""

import logging

import numpy as np
import pytest

from builtin_steps.emicorr import EmiCorrStep
from pipeline_core.datamodels import EmiModel, open_model
from pipeline_core.errors import ParameterError, ReferenceFileError
from tests.builtin.emicorr import _emi

# 24 rows: the EMI phase moves by 0.6 cycle from group to group, which the
# sequential algorithm needs (a step near a whole cycle hides the wave in the ramps).
SHAPE = (2, 12, 24, 64)
AMPLITUDE = 20.0


def _residual_fraction(out, clean, emi):
    """RMS of what is left of the EMI, as a fraction of the RMS of the EMI injected."""
    left = out.data.astype(np.float64) - clean
    return float(left.std() / emi.std())


@pytest.fixture
def reference(tmp_path):
    return _emi.emi_reference(tmp_path, nsamples=200)


def test_joint_removes_the_injected_sinusoid(reference):
    ramp, clean = _emi.miri_ramp(SHAPE)
    emi = _emi.inject(ramp, AMPLITUDE)
    before = ramp.data.copy()
    out = EmiCorrStep.call(ramp, skip=False, override_emicorr=reference)
    assert out.meta.cal_step.emicorr == "COMPLETE"
    assert _residual_fraction(out, clean, emi) < 0.01  # 99% of the EMI removed
    np.testing.assert_array_equal(ramp.data, before)  # the caller's model is not modified


def test_joint_fits_each_integration_separately(reference):
    ramp, clean = _emi.miri_ramp(SHAPE)
    emi = _emi.inject(ramp, np.array([10.0, 30.0])[:, None, None, None])
    together = EmiCorrStep.call(ramp, skip=False, override_emicorr=reference)
    apart = EmiCorrStep.call(ramp, skip=False, override_emicorr=reference, fit_ints_separately=True)
    assert _residual_fraction(apart, clean, emi) < 0.03
    assert _residual_fraction(together, clean, emi) > 0.2  # one amplitude cannot fit both


def test_sequential_with_reference_waveform(reference):
    ramp, clean = _emi.miri_ramp(SHAPE)
    emi = _emi.inject(ramp, AMPLITUDE)
    out = EmiCorrStep.call(ramp, skip=False, algorithm="sequential", override_emicorr=reference)
    assert _residual_fraction(out, clean, emi) < 0.05


def test_sequential_on_the_fly_frequency_and_saved_waveform(tmp_path, reference):
    ramp, clean = _emi.miri_ramp(SHAPE)
    emi = _emi.inject(ramp, AMPLITUDE)
    out = EmiCorrStep.call(
        ramp, skip=False, onthefly_corr_freq=[_emi.FREQ], save_intermediate_results=True,
        output_dir=str(tmp_path),
    )
    # The waveform measured from the ramps alone is distorted by the ramp fit: 75% removed.
    assert _residual_fraction(out, clean, emi) < 0.25
    saved = open_model(str(tmp_path / "jw_test_mirimage_emi_ref_waves.asdf"))
    assert isinstance(saved, EmiModel) and saved.meta.reftype == "EMICORR"
    assert saved.subarray_cases["MASK1065"]["freqs"]["FAST"] == [repr(_emi.FREQ)]
    # The measured waveform is a valid reference file for the joint algorithm.
    again = EmiCorrStep.call(
        ramp, skip=False, override_emicorr=str(tmp_path / "jw_test_mirimage_emi_ref_waves.asdf")
    )
    assert again.meta.cal_step.emicorr == "COMPLETE"
    assert _residual_fraction(again, clean, emi) < 0.25


def test_two_frequencies_are_removed_in_turn(tmp_path):
    second = 164.9305
    phase = (np.arange(200) + 0.5) / 200
    freqs = {
        "Hz218a": {"frequency": _emi.FREQ, "phase_amplitudes": _emi.sine_wave(phase)},
        "Hz164": {"frequency": second, "phase_amplitudes": np.sin(2 * np.pi * phase)},
    }
    path = _emi.emi_reference(tmp_path, freqs=freqs)
    ramp, clean = _emi.miri_ramp(SHAPE)
    emi = _emi.inject(ramp, AMPLITUDE)
    emi2 = 8.0 * np.sin(2 * np.pi * (_emi.read_phases(SHAPE, period=1 / second / 10e-6) + 0.4))
    ramp.data += emi2.astype(np.float32)
    out = EmiCorrStep.call(ramp, skip=False, override_emicorr=path)
    assert _residual_fraction(out, clean, emi + emi2) < 0.01


def test_slow_readout_uses_the_detector_frequency_list(reference):
    ramp, clean = _emi.miri_ramp(SHAPE, readpatt="SLOWR1")
    emi = _emi.inject(ramp, AMPLITUDE, nsamples=9)
    out = EmiCorrStep.call(ramp, skip=False, override_emicorr=reference)
    assert _residual_fraction(out, clean, emi) < 0.01


def test_three_groups_are_enough_for_joint(reference):
    ramp, clean = _emi.miri_ramp((2, 3, 24, 64))
    emi = _emi.inject(ramp, AMPLITUDE)
    out = EmiCorrStep.call(ramp, skip=False, override_emicorr=reference)
    assert _residual_fraction(out, clean, emi) < 0.05


@pytest.mark.parametrize(
    ("change", "params", "message"),
    [
        ({"detector": "NRCA1"}, {}, "not implemented for instrument: NIRCAM"),
        ({"readpatt": "SLOWR2"}, {}, "not implemented for read pattern"),
        ({"subarray": "SUB64"}, {}, "No EMI correction match for this configuration"),
        ({"shape": (1, 2, 24, 64)}, {}, "cannot be performed for ngroups=2"),
        ({}, {"override_emicorr": "N/A"}, "No EMICORR reference file applies"),
    ],
)
def test_not_applicable_is_skipped_with_data_unchanged(reference, caplog, change, params, message):
    shape = change.pop("shape", SHAPE)
    ramp, _ = _emi.miri_ramp(shape, **change)
    _emi.inject(ramp, AMPLITUDE)
    params = {"override_emicorr": reference, **params}
    with caplog.at_level(logging.WARNING):
        out = EmiCorrStep.call(ramp, skip=False, **params)
    assert out.meta.cal_step.emicorr == "SKIPPED"
    np.testing.assert_array_equal(out.data, ramp.data)
    assert message in caplog.text


def test_skipped_by_default(reference):
    ramp, _ = _emi.miri_ramp(SHAPE)
    assert EmiCorrStep().skip is True
    out = EmiCorrStep.call(ramp, override_emicorr=reference, skip=True)
    assert out.meta.cal_step.emicorr == "SKIPPED"
    np.testing.assert_array_equal(out.data, ramp.data)


def test_jwst_spec_defaults():
    step = EmiCorrStep()
    assert (step.algorithm, step.nints_to_phase, step.nbins, step.scale_reference) == (
        "joint", None, None, True
    )
    assert (step.onthefly_corr_freq, step.use_n_cycles, step.fit_ints_separately) == (None, 3, False)
    assert (step.user_supplied_reffile, step.save_intermediate_results, step.skip) == (None, False, True)
    assert EmiCorrStep.reference_file_types == ("emicorr",)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"nbins": 0}, r"step emicorr: nbins=0 is invalid; give an integer >= 1 or None"),
        ({"nints_to_phase": -1}, r"nints_to_phase=-1 is invalid"),
        ({"onthefly_corr_freq": [218.5, -1.0]}, r"onthefly_corr_freq=\[218.5, -1.0\] is invalid"),
    ],
)
def test_bad_parameters_are_clear_errors(params, match):
    ramp, _ = _emi.miri_ramp(SHAPE)
    with pytest.raises(ParameterError, match=match):
        EmiCorrStep.call(ramp, skip=False, **params)


def test_inconsistent_reference_is_a_clear_error(tmp_path):
    cases = {"MASK1065": {"rowclocks": 82, "frameclocks": 23968, "freqs": {"FAST": ["Hz999"]}}}
    path = _emi.emi_reference(tmp_path, cases=cases)
    ramp, _ = _emi.miri_ramp(SHAPE)
    with pytest.raises(ReferenceFileError, match=r"frequency 'Hz999' .* is not defined"):
        EmiCorrStep.call(ramp, skip=False, override_emicorr=path)


def test_deprecated_user_supplied_reffile_still_works(reference, caplog):
    ramp, clean = _emi.miri_ramp(SHAPE)
    emi = _emi.inject(ramp, AMPLITUDE)
    with caplog.at_level(logging.WARNING):
        out = EmiCorrStep.call(ramp, skip=False, user_supplied_reffile=reference)
    assert "'user_supplied_reffile' parameter is deprecated" in caplog.text
    assert _residual_fraction(out, clean, emi) < 0.01
