"""The ramp_dq_summary step on in-memory ramps."""

import logging

import numpy as np
import pytest
from astropy.table import Table

from pipeline_core.datamodels import ImageModel, RampModel, dqflags
from pipeline_core.errors import StepError
from steppe_example.step import RampDQSummaryStep


def make_ramp(nints=2, ngroups=4, shape=(4, 5)):
    ramp = RampModel(data=np.zeros((nints, ngroups, *shape), dtype=np.float32))
    ramp.meta.exposure.group_time = 10.0
    ramp.meta.filename = "jw01234001001_01101_00001_nrca1_jump.fits"
    jump = dqflags.group["JUMP_DET"]
    ramp.groupdq[0, 2, 0, 0] = jump
    ramp.groupdq[0, 3, 1, 1] = jump
    ramp.groupdq[1, 1:, 2, 2] = dqflags.group["SATURATED"]
    return ramp


def test_summary_is_recorded_in_the_metadata_and_data_is_untouched():
    ramp = make_ramp()
    result = RampDQSummaryStep.call(ramp)
    summary = result.meta.dq_summary
    assert summary.jumps == [2, 0]
    assert summary.jump_pixels == [2, 0]
    assert summary.saturated_pixels == [0, 1]
    assert summary.total_jumps == 2
    assert summary.max_jump_fraction == pytest.approx(2 / 20)
    assert result.meta.cal_step.ramp_dq_summary == "COMPLETE"
    np.testing.assert_array_equal(result.groupdq, ramp.groupdq)
    assert ramp.meta.dq_summary is None  # the caller's model is not modified


def test_warns_when_too_many_pixels_jump(caplog):
    with caplog.at_level(logging.WARNING, logger="steppe"):
        RampDQSummaryStep.call(make_ramp(), warn_jump_fraction=0.05)
    assert "integration 1: 10.0% of the pixels have a jump, more than warn_jump_fraction=0.05" in caplog.text


def test_save_table_writes_an_ecsv_next_to_the_products(tmp_path):
    RampDQSummaryStep.call(make_ramp(), save_table=True, output_dir=str(tmp_path))
    (path,) = tmp_path.glob("*.ecsv")
    assert path.name == "jw01234001001_01101_00001_nrca1_dqsummary.ecsv"
    table = Table.read(path, format="ascii.ecsv")
    assert list(table["jumps"]) == [2, 0]
    assert list(table["integration"]) == [1, 2]


def test_a_rate_image_is_refused_with_advice():
    with pytest.raises(StepError, match="run it after 'jump' and before 'ramp_fit'"):
        RampDQSummaryStep.call(ImageModel((3, 3)))
