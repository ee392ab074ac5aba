"""IRS2 readouts: layout, bad reference pairs and the Fourier correction, on synthetic truth."""

import numpy as np

from builtin_steps.refpix.irs2 import subtract_reference
from builtin_steps.refpix.irs2_badref import find_bad_pairs, replace_bad_columns, table_bad_columns, interleaved_mask
from builtin_steps.refpix.irs2_layout import Irs2Layout, irs2_normal_mask
from builtin_steps.refpix.step import RefPixStep
from pipeline_core.datamodels import IRS2Model, RampModel

NY = 256  # detector rows of the synthetic frames (the real detector has 2048)
ROW = 712


def _read_times():
    """Time (pixel periods since the row start) and kind of each value of one section, in read order."""
    times, is_ref, t = [], [], 0
    for _ in range(8):
        times.append(t), is_ref.append(False)
        t += 1
    for block in range(32):
        t += 1  # jump to the reference pixels
        for _ in range(4):
            times.append(t), is_ref.append(True)
            t += 1
        t += 1  # jump back
        for _ in range(16 if block < 31 else 8):
            times.append(t), is_ref.append(False)
            t += 1
    return np.array(times), np.array(is_ref)


def _detector_times(ny=NY):
    """Read time of every detector-frame value of an IRS2 frame (sections 0, 2, 4 read right to left)."""
    times, is_ref = _read_times()
    row = np.empty(3200, dtype=np.int64)
    ref = np.empty(3200, dtype=bool)
    for k in range(5):
        order = slice(None, None, -1) if k % 2 == 0 else slice(None)
        row[k * 640 : (k + 1) * 640] = times[order]
        ref[k * 640 : (k + 1) * 640] = is_ref[order]
    return np.arange(ny)[:, None] * ROW + row[None, :], ref


def test_layout_matches_an_independent_readout_simulation():
    times, is_ref = _read_times()
    layout = Irs2Layout()
    pos_n, time_n = layout.normal()
    pos_r, time_r = layout.reference()
    np.testing.assert_array_equal(times[pos_n], time_n)
    np.testing.assert_array_equal(times[pos_r], time_r)
    assert not is_ref[pos_n].any() and is_ref[pos_r].all()
    _, ref = _detector_times(1)
    mask = irs2_normal_mask()
    assert mask.sum() == 2048 and not mask[:640].any()
    np.testing.assert_array_equal(mask[640:], ~ref[640:])


def _lowpass_beta(ny=NY, cut=None):
    n = ny * ROW
    freq = np.abs(np.fft.fftfreq(n) * n)
    gain = ROW / 256.0  # 256 of the 712 time slots of a row carry reference values
    beta = np.where(freq <= (cut or ny // 4), gain, 0.0).astype(complex)
    return np.zeros((4, n), complex), np.tile(beta, (4, 1))


def _drifting_frame(rng, ngroups=3, ny=NY):
    """Scene + per-amplifier drift in time (same in normal and reference reads), zero mean over groups."""
    t, ref = _detector_times(ny)
    n = ny * ROW
    scene = rng.uniform(0, 500, (ny, 3200))
    scene[:, ref] = 0
    scene[:, :640] = 0
    scene[:4] = scene[-4:] = 0  # reference rows
    rate = np.arange(ngroups) - (ngroups - 1) / 2
    data = np.empty((ngroups, ny, 3200))
    drift = np.zeros_like(data)
    for g in range(ngroups):
        for k in range(1, 5):
            cols = slice(k * 640, (k + 1) * 640)
            amp = 20.0 * rate[g] * (k + 1)
            drift[g, :, cols] = amp * np.cos(2 * np.pi * 4 * t[:, cols] / n)
    data[:] = 10000 + scene * (1 + 0.1 * rate[:, None, None]) + drift
    return data.astype(np.float32), drift, ref


def test_fourier_correction_removes_an_injected_amplifier_drift():
    rng = np.random.default_rng(11)
    data, drift, _ = _drifting_frame(rng)
    alpha, beta = _lowpass_beta()
    out = subtract_reference(data.copy(), alpha, beta, Irs2Layout())
    keep = irs2_normal_mask()
    truth = (data - drift)[..., keep]
    before = np.abs(data[..., keep] - truth).max()
    after = np.abs(out - truth)
    assert out.shape == (3, NY, 2048) and before > 50
    assert after.max() < 0.02 * before  # drift removed to 2 % of its amplitude


def test_preserve_refpix_keeps_the_frame_width_and_corrects_references():
    rng = np.random.default_rng(12)
    data, drift, ref = _drifting_frame(rng)
    alpha, beta = _lowpass_beta()
    out = subtract_reference(data.copy(), alpha, beta, Irs2Layout(), preserve_refpix=True)
    assert out.shape == data.shape
    keep = irs2_normal_mask()
    stripped = subtract_reference(data.copy(), alpha, beta, Irs2Layout())
    np.testing.assert_allclose(out[..., keep], stripped, atol=1e-2)
    refs = ref.copy()
    refs[:640] = False
    assert np.abs(out[..., refs] - data[..., refs]).max() > 10  # references were corrected too


def test_bad_reference_pair_is_found_and_replaced():
    rng = np.random.default_rng(13)
    data = rng.normal(100, 2, (1, 2, 64, 3200)).astype(np.float32)
    hot = 640 + 8 + 5 * 20  # first read of a pair in amplifier 1
    data[..., hot] += 500
    bad = find_bad_pairs(data, np.zeros(3200, bool), scipix_n=16, refpix_r=4, n_sigma=3.0)
    assert bad[hot] and bad[hot + 1]
    assert bad.sum() == 2
    replace_bad_columns(data, bad, np.nonzero(bad)[0], interleaved_mask(3200, 16, 4), scipix_n=16, refpix_r=4)
    expected = 0.5 * (data[..., hot - 20] + data[..., hot + 20])
    np.testing.assert_allclose(data[..., hot], expected)


def test_reference_dq_table_names_pairs_in_readout_direction():
    cols = table_bad_columns([1, 2], [1, 1], [0b1, 0b10], width=3200, scipix_n=16, refpix_r=4)
    # output 1 (left to right): block 0, first pair; output 2 (reversed): block 1, second pair
    assert cols.tolist() == [648, 649, 1280 + 8 + 20 + 2, 1280 + 8 + 20 + 3]


def _irs2_table(alpha, beta):
    n = alpha.shape[-1]
    table = np.zeros(2 * n, dtype=[(f"{a}_{k}", ">f4") for a in ("ALPHA", "BETA") for k in range(4)])
    for k in range(4):
        for name, w in (("ALPHA", alpha[k]), ("BETA", beta[k])):
            table[f"{name}_{k}"][0::2] = w.real
            table[f"{name}_{k}"][1::2] = w.imag
    return table


def test_step_corrects_and_strips_an_nrs1_ramp():
    rng = np.random.default_rng(14)
    data, drift, _ = _drifting_frame(rng)
    ramp = RampModel(data=np.swapaxes(data, 1, 2)[None].copy())  # NRS1: science = transposed detector
    ramp.meta.instrument.name, ramp.meta.instrument.detector = "NIRSPEC", "NRS1"
    ramp.meta.exposure.nrs_normal, ramp.meta.exposure.nrs_reference = 16, 4
    ramp.meta.exposure.readpatt = "NRSIRS2RAPID"
    alpha, beta = _lowpass_beta()
    ref = IRS2Model(irs2_table=_irs2_table(alpha, beta))
    ref.meta.reftype = "REFPIX"
    out = RefPixStep.call(ramp, override_refpix=ref)
    assert out.data.shape == (1, 3, 2048, NY) and out.pixeldq.shape == (2048, NY)
    assert out.groupdq.shape == out.data.shape
    truth = np.swapaxes((data - drift)[..., irs2_normal_mask()], 1, 2)
    assert np.abs(out.data[0] - truth).max() < 2.0
    assert out.meta.cal_step.refpix == "COMPLETE"


def test_step_with_weights_of_the_wrong_length_is_skipped():
    rng = np.random.default_rng(15)
    data, _, _ = _drifting_frame(rng, ngroups=2)
    ramp = RampModel(data=np.swapaxes(data, 1, 2)[None].copy())
    ramp.meta.instrument.name, ramp.meta.instrument.detector = "NIRSPEC", "NRS1"
    alpha, beta = _lowpass_beta()
    ref = IRS2Model(irs2_table=_irs2_table(alpha[:, :100], beta[:, :100]))
    ref.meta.reftype = "REFPIX"
    out = RefPixStep.call(ramp, override_refpix=ref)
    assert out.meta.cal_step.refpix == "SKIPPED"


def test_real_transforms_with_hermitian_weights_equal_the_complex_ones():
    from builtin_steps.refpix.irs2 import hermitian_half
    from scipy import fft

    rng = np.random.default_rng(16)
    for n in (1000, 1001):
        x = rng.normal(size=n)
        w = rng.normal(size=n) + 1j * rng.normal(size=n)
        full = np.fft.ifft(w * np.fft.fft(x)).real
        half = fft.irfft(hermitian_half(w) * fft.rfft(x), n)
        np.testing.assert_allclose(half, full, rtol=0, atol=1e-12 * np.abs(full).max())


def test_weights_from_table_halves_and_out_array():
    from builtin_steps.refpix.irs2 import hermitian_half
    from builtin_steps.refpix.irs2_apply import weights_from_table

    rng = np.random.default_rng(17)
    n = NY * ROW
    alpha = 0.01 * (rng.normal(size=(4, n)) + 1j * rng.normal(size=(4, n)))
    _, beta = _lowpass_beta()
    table = _irs2_table(alpha, beta)
    full_a, full_b = weights_from_table(table)
    half_a, half_b = weights_from_table(table, hermitian=True)
    np.testing.assert_array_equal(full_a, alpha.astype(np.complex64))  # the table holds float32
    np.testing.assert_array_equal(half_a, hermitian_half(full_a))
    np.testing.assert_array_equal(half_b, hermitian_half(full_b))
    data, _, _ = _drifting_frame(rng, ngroups=2)
    direct = subtract_reference(data, full_a, full_b, Irs2Layout())
    out = np.full((2, 2048, NY), np.nan, np.float32)
    result = subtract_reference(data, half_a, half_b, Irs2Layout(), out=np.swapaxes(out, 1, 2))
    assert np.shares_memory(result, out)
    np.testing.assert_array_equal(np.swapaxes(out, 1, 2), direct)  # written through a transposed view
