"""Tests of the EMI kernels: readout clocks, phase folding, waveform alignment, fitting."""

import numpy as np
import pytest

from builtin_steps.emicorr.cases import case_from_reference, case_on_the_fly, on_the_fly_reference_tree
from builtin_steps.emicorr.clocks import ReadoutClock, period_in_clocks
from builtin_steps.emicorr.joint import best_phase, waveform_spline
from builtin_steps.emicorr.sequential import (
    align_reference,
    flatten_integration,
    integrations_to_phase,
    nearest_rebin,
    phase_binned_waveform,
)
from pipeline_core.datamodels import EmiModel, open_model


def test_clock_phases_follow_the_readout_order():
    clock = ReadoutClock(ny=24, nsamples=1, rowclocks=82, reset_clocks=23968)
    assert clock.frame_clocks == 24 * 82 + 1000 * 7
    times = clock.frame_times(16)
    assert times[1, 0] == 82 and times[0, 3] == 3
    period = 457.0
    phases = clock.phases(times, period, integration=2, ngroups=5)
    start = 2 * (5 * clock.frame_clocks + 23968) + 4 * clock.frame_clocks + 82 * 7 + 9
    np.testing.assert_allclose(phases[4, 7, 9], (start / period) % 1, atol=1e-12)
    assert period_in_clocks(390.625) == pytest.approx(256.0)


def test_integrations_to_phase_rules():
    # use_n_cycles cycles of the wave, rounded up to whole integrations
    assert integrations_to_phase(10, 5, 500.0, 100, nints_to_phase=None, use_n_cycles=3) == 3
    assert integrations_to_phase(10, 5, 500.0, 100, nints_to_phase=None, use_n_cycles=None) == 10
    assert integrations_to_phase(10, 5, 500.0, 100, nints_to_phase=40, use_n_cycles=3) == 10
    assert integrations_to_phase(10, 5, 500.0, 100, nints_to_phase=2, use_n_cycles=7) == 2


def test_flatten_integration_removes_ramps_and_averages_outputs():
    t = np.arange(6)[:, None, None]
    ramp = 1000.0 + 7.0 * t + np.zeros((6, 4, 16))
    ramp[:, :, 0] += 4.0  # one output brighter: the quad average spreads it
    flat = flatten_integration(ramp)
    assert flat.shape == (6, 4, 4)
    np.testing.assert_allclose(flat, 0.0, atol=1e-9)


def test_phase_binned_waveform_clips_outliers():
    rng = np.random.default_rng(0)
    phases = rng.uniform(0, 1, 20000)
    values = np.sin(2 * np.pi * phases) + rng.normal(0, 0.05, phases.size)
    values[::97] += 50.0  # outliers removed by the 3-sigma clipping
    wave = phase_binned_waveform(phases, values, 20)
    centres = (np.arange(20) + 0.5) / 20
    expected = np.sin(2 * np.pi * centres)
    np.testing.assert_allclose(wave, expected - np.median(expected), atol=0.02)


def test_nearest_rebin_takes_the_lower_neighbour():
    np.testing.assert_array_equal(nearest_rebin(np.arange(4.0), 8), [0, 0, 1, 1, 2, 2, 3, 3])
    assert nearest_rebin(np.arange(4.0), 6.5).size == 7


def test_align_reference_recovers_shift_and_scale():
    n = 64
    reference = np.sin(2 * np.pi * (np.arange(n) + 0.5) / n)
    measured = 3.0 * np.roll(reference, 11)  # shifted by 11 samples, 3x larger
    table = align_reference(reference, measured, 128.0, scale=True)
    np.testing.assert_allclose(table, 3.0 * np.repeat(np.roll(reference, 11), 2), atol=1e-9)
    unscaled = align_reference(reference, measured, 128.0, scale=False)
    np.testing.assert_allclose(unscaled, table / 3.0, atol=1e-9)


def test_best_phase_refines_and_wraps():
    phases = np.arange(100) / 100
    chisq = (((phases - 0.423 + 0.5) % 1) - 0.5) ** 2
    assert best_phase(phases, chisq) == pytest.approx(0.423, abs=1e-9)
    wrapped = (((phases - 0.004 + 0.5) % 1) - 0.5) ** 2  # minimum next to the wrap
    assert best_phase(phases, wrapped) == pytest.approx(0.004, abs=1e-9)
    assert best_phase(phases, np.full(100, np.nan)) == 0.0


def test_waveform_spline_interpolates_periodically():
    n = 40
    centres = (np.arange(n) + 0.5) / n
    spline = waveform_spline(np.sin(2 * np.pi * centres))
    np.testing.assert_allclose(spline(centres), np.sin(2 * np.pi * centres), atol=1e-12)
    x = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(spline(x), np.sin(2 * np.pi * x), atol=1e-4)


def test_cases_from_reference_and_on_the_fly():
    freqs = {"Hz10": {"frequency": 10.039216, "phase_amplitudes": np.ones(8)}}
    cases = {
        "FULL_SLOW": {"rowclocks": 2333, "frameclocks": 2388992, "freqs": {"SLOW": {"MIRIFULONG": ["Hz10"]}}}
    }
    case = case_from_reference(freqs, cases, subarray="FULL", readpatt="SLOWR1", detector="MIRIFULONG")
    assert (case.rowclocks, case.frameclocks, case.frequencies[0].name) == (2333, 2388992, "Hz10")
    assert case_from_reference(freqs, cases, subarray="FULL", readpatt="SLOW", detector="MIRIMAGE") is None
    assert case_from_reference(freqs, cases, subarray="FULL", readpatt="FAST", detector="MIRIFULONG") is None
    fly = case_on_the_fly("FULL", "FASTR1", [390.625])
    assert (fly.rowclocks, fly.frameclocks) == (271, 277504)
    assert case_on_the_fly("SUBXYZ", "FAST", [390.625]) is None
    tree = on_the_fly_reference_tree(
        fly, {"390.625": np.zeros(4)}, subarray="FULL", readpatt="FASTR1", detector="MIRIMAGE"
    )
    again = case_from_reference(
        tree["frequencies"], tree["subarray_cases"], subarray="FULL", readpatt="FASTR1", detector="MIRIMAGE"
    )
    assert again.frequencies[0].frequency == 390.625


def test_emi_model_round_trip(tmp_path):
    ref = EmiModel(
        frequencies={"Hz390": {"frequency": 390.625, "phase_amplitudes": np.arange(5.0)}},
        subarray_cases={"SUB64": {"rowclocks": 28, "frameclocks": 8512, "freqs": {"FAST": ["Hz390"]}}},
    )
    path = ref.save(str(tmp_path / "emi.asdf"))
    back = open_model(path)
    assert isinstance(back, EmiModel) and back.meta.reftype == "EMICORR"
    np.testing.assert_array_equal(back.frequencies["Hz390"]["phase_amplitudes"], np.arange(5.0))
    copy = back.copy()
    copy.frequencies["Hz390"]["frequency"] = 1.0
    assert back.frequencies["Hz390"]["frequency"] == 390.625
    with pytest.raises(Exception, match=r"Give a path ending in '.asdf'"):
        ref.save(str(tmp_path / "emi.fits"))
