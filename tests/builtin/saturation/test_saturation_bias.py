"""Group-2 saturation of frame-averaged groups with the SUPERBIAS, and IRS2 readouts."""

import numpy as np

from builtin_steps.saturation.flag import flag_saturation, prepare_threshold, read_pattern
from builtin_steps.saturation.step import SaturationStep
from pipeline_core.datamodels import RampModel
from tests.builtin import _stepdata as sd

DO_NOT_USE, SATURATED = 1, 2
BIAS, THRESHOLD = 10000.0, 30000.0


def _cosmic_ray_in_group_2(shape=(1, 4, 8, 8)):
    # 4 frames per group on a 10000 DN bias: a faint pixel is hit in the last frame of group 2
    data = np.full(shape, BIAS + 50.0, np.float32)
    data[0, :, 4, 4] = [BIAS + 100.0, (3 * (BIAS + 150.0) + THRESHOLD) / 4, THRESHOLD, THRESHOLD]
    return data


def test_bias_lets_group_2_of_a_faint_pixel_be_flagged():
    data = _cosmic_ray_in_group_2()
    thr, _ = prepare_threshold(np.full((8, 8), THRESHOLD), None)
    frames = read_pattern(4, 4, 0)
    with_bias = np.zeros(data.shape, np.uint8)
    flag_saturation(data, with_bias, thr, n_pix_grow_sat=0, frames=frames, bias=np.full((8, 8), BIAS, np.float32))
    without = np.zeros(data.shape, np.uint8)
    flag_saturation(data, without, thr, n_pix_grow_sat=0, frames=frames)
    assert with_bias[0, 1, 4, 4] & DO_NOT_USE and not with_bias[0, 0, 4, 4]
    # without the bias the first group (10100 DN) extrapolates above the threshold: not flagged
    assert not without[0, 1, 4, 4] & DO_NOT_USE
    assert with_bias[0, 2, 4, 4] & SATURATED and without[0, 2, 4, 4] & SATURATED


def test_nan_bias_counts_as_zero():
    data = _cosmic_ray_in_group_2()
    thr, _ = prepare_threshold(np.full((8, 8), THRESHOLD), None)
    gdq = np.zeros(data.shape, np.uint8)
    flag_saturation(data, gdq, thr, n_pix_grow_sat=0, frames=read_pattern(4, 4, 0), bias=np.full((8, 8), np.nan, np.float32))
    assert not gdq[0, 1, 4, 4] & DO_NOT_USE


def _grouped_ramp():
    ramp = sd.make_ramp(value=0.0, slope=0.0)
    ramp.data[...] = _cosmic_ray_in_group_2()
    ramp.meta.exposure.nframes = 4
    return ramp


def test_step_reads_the_superbias(tmp_path):
    sat = sd.saturation(tmp_path, np.full((8, 8), THRESHOLD))
    bias = sd.superbias(tmp_path, np.full((8, 8), BIAS))
    out = SaturationStep.call(_grouped_ramp(), override_saturation=sat, override_superbias=bias, n_pix_grow_sat=0)
    assert out.groupdq[0, 1, 4, 4] & DO_NOT_USE
    out = SaturationStep.call(_grouped_ramp(), override_saturation=sat, override_superbias="N/A", n_pix_grow_sat=0)
    assert not out.groupdq[0, 1, 4, 4] & DO_NOT_USE
    out = SaturationStep.call(
        _grouped_ramp(), override_saturation=sat, override_superbias=bias, use_readpatt=False, n_pix_grow_sat=0
    )
    assert not out.groupdq[0, 1, 4, 4] & DO_NOT_USE


def test_step_lists_both_reference_types():
    assert SaturationStep.reference_file_types == ("saturation", "superbias")
    assert "override_superbias" in SaturationStep().get_pars()


def test_irs2_readout_is_checked_on_its_image_pixels(tmp_path):
    from builtin_steps.refpix.irs2_layout import irs2_normal_mask

    ny = 16
    data = np.full((1, 2, 3200, ny), 1000.0, np.float32)  # NRS1 science orientation
    normal = irs2_normal_mask()
    image_rows = np.nonzero(normal)[0]
    data[0, 1, image_rows[100], 5] = 40000.0  # saturates in group 2
    ramp = RampModel(data=data)
    ramp.meta.instrument.name, ramp.meta.instrument.detector = "NIRSPEC", "NRS1"
    ramp.meta.exposure.nframes, ramp.meta.exposure.groupgap = 1, 0
    ramp.meta.subarray.xstart = ramp.meta.subarray.ystart = 1
    thr = np.full((2048, ny), 30000.0, np.float32)
    thr[7, 0] = np.nan
    sat = sd.save_ref(tmp_path, sd.SaturationModel(data=thr, dq=np.zeros((2048, ny), np.uint32)), "saturation")
    out = SaturationStep.call(ramp, override_saturation=sat, override_superbias="N/A", n_pix_grow_sat=1)
    flagged = (out.groupdq[0, 1] & SATURATED) != 0
    # the hit and its 8 image neighbours; the neighbours across an interleaved block are image rows 99/101
    assert flagged[image_rows[99:102]][:, 4:7].all() and flagged.sum() == 9
    assert not flagged[~normal].any()
    assert out.pixeldq[image_rows[7], 0] == 1 << 21
