"""Tests of RscdStep: the first N groups of MIRI integrations flagged per the RSCD table."""

import logging

import numpy as np
import pytest

from builtin_steps.rscd import RscdStep
from builtin_steps.rscd.flag import limit_group_skip, skip_counts
from pipeline_core.datamodels import RampModel, RSCDModel
from pipeline_core.errors import ReferenceFileError

DNU, SAT, FLUX_ESTIMATED = 1, 2, 1 << 28


def miri_ramp(nints=3, ngroups=10, *, detector="MIRIMAGE", subarray="FULL", readpatt="FASTR1"):
    model = RampModel(data=np.zeros((nints, ngroups, 4, 4), np.float32))
    meta = model.meta
    meta.instrument.name = "MIRI" if detector.startswith("MIR") else "NIRCAM"
    meta.instrument.detector = detector
    meta.exposure.readpatt = readpatt
    meta.exposure.nints, meta.exposure.ngroups = nints, ngroups
    meta.subarray.name = subarray
    return model


def rscd_file(tmp_path, rows=(("FULL", "FASTR1", 2, 4), ("SLITLESSPRISM", "FASTR1", 1, 3))):
    table = np.array(
        list(rows),
        dtype=[("subarray", "U17"), ("readpatt", "U12"), ("group_skip1", "i4"), ("group_skip", "i4")],
    )
    ref = RSCDModel(rscd_group_skip_table=table)
    ref.meta.instrument.name = "MIRI"
    path = tmp_path / "rscd.fits"
    ref.save(str(path))
    return str(path)


def flagged_groups(out):
    """Number of leading groups flagged DO_NOT_USE, per integration and pixel."""
    dnu = (out.groupdq & DNU) != 0
    return np.argmin(np.concatenate([dnu, np.zeros_like(dnu[:, :1])], axis=1), axis=1)


def test_first_integration_and_later_ones_use_their_own_counts(tmp_path):
    out = RscdStep.call(miri_ramp(), override_rscd=rscd_file(tmp_path))
    assert out.meta.cal_step.rscd == "COMPLETE"
    counts = flagged_groups(out)
    assert (counts[0] == 2).all() and (counts[1:] == 4).all()
    assert (out.groupdq & DNU).sum() == (2 + 4 + 4) * 16  # nothing else flagged
    assert out.meta.rscd.ngroups_skip_int1 == 2 and out.meta.rscd.ngroups_skip_int2p == 4


@pytest.mark.parametrize(("ngroups", "expected"), [(3, 0), (4, 1), (5, 1), (6, 3), (7, 4), (12, 4)])
def test_short_ramps_flag_fewer_groups(tmp_path, ngroups, expected):
    out = RscdStep.call(miri_ramp(nints=2, ngroups=ngroups), override_rscd=rscd_file(tmp_path))
    assert (flagged_groups(out)[1] == expected).all()
    assert limit_group_skip(4, ngroups) == expected


@pytest.mark.parametrize("ngroups", [1, 2])
def test_fewer_than_three_groups_skipped(tmp_path, ngroups):
    ramp = miri_ramp(ngroups=ngroups)
    out = RscdStep.call(ramp, override_rscd=rscd_file(tmp_path))
    assert out.meta.cal_step.rscd == "SKIPPED"
    np.testing.assert_array_equal(out.groupdq, ramp.groupdq)


def test_saturating_pixels_keep_two_groups_before_saturation(tmp_path):
    ramp = miri_ramp()
    ramp.groupdq[1:, 3:, 0, 0] = SAT  # saturates in group 4 (1-based): flag only group 1
    ramp.groupdq[2, 1:, 0, 1] = SAT  # saturates in group 2 of integration 3: flag nothing
    ramp.groupdq[:, :, 0, 2] = SAT  # saturated from group 1: nothing to save, flag 4
    out = RscdStep.call(ramp, override_rscd=rscd_file(tmp_path))
    counts = flagged_groups(out)
    assert (counts[1:, 0, 0] == 1).all() and counts[2, 0, 1] == 0 and counts[1, 0, 1] == 4
    assert (counts[1:, 0, 2] == 4).all() and (counts[1:, 1:, :] == 4).all()
    assert out.pixeldq[0, 0] == FLUX_ESTIMATED and out.pixeldq[0, 1] == FLUX_ESTIMATED
    assert out.pixeldq[0, 2] == 0
    assert out.meta.rscd.keep_groups_saturation_int2p == 2
    assert out.meta.rscd.keep_bright_firstgroup_int2p == 1


def test_skip_counts_kernel_stops_at_first_unsaturated_level():
    gdq = np.zeros((1, 8, 1, 2), np.uint8)
    gdq[0, 4:, 0, 0] = SAT  # saturates at group 5 (1-based)
    counts, lowered, only_one = skip_counts(gdq, 4, saturated=SAT)
    assert counts[0, 0, 0] == 2 and counts[0, 0, 1] == 4
    assert lowered.tolist() == [[True, False]] and only_one == 0


def test_segment_without_first_integration(tmp_path):
    ramp = miri_ramp(nints=2)
    ramp.meta.exposure.nints = 6
    ramp.meta.exposure.integration_start = 4
    out = RscdStep.call(ramp, override_rscd=rscd_file(tmp_path))
    assert (flagged_groups(out) == 4).all()


def test_subprism_is_read_as_slitlessprism(tmp_path):
    out = RscdStep.call(miri_ramp(subarray="SUBPRISM"), override_rscd=rscd_file(tmp_path))
    assert (flagged_groups(out)[0] == 1).all() and (flagged_groups(out)[1:] == 3).all()


def test_old_table_without_group_skip1(tmp_path, caplog):
    from astropy.io import fits

    table = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="subarray", format="17A", array=["FULL"]),
            fits.Column(name="readpatt", format="12A", array=["FASTR1"]),
            fits.Column(name="group_skip", format="J", array=[3]),
        ],
        name="RSCD_GROUP_SKIP",
    )
    primary = fits.PrimaryHDU()
    primary.header["REFTYPE"] = "RSCD"
    path = tmp_path / "old_rscd.fits"
    fits.HDUList([primary, table]).writeto(path)
    with caplog.at_level(logging.WARNING):
        out = RscdStep.call(miri_ramp(), override_rscd=str(path))
    assert "no group_skip1 column" in caplog.text
    counts = flagged_groups(out)
    assert (counts[0] == 1).all() and (counts[1:] == 3).all()


@pytest.mark.parametrize(
    ("ramp_kw", "override", "message"),
    [
        ({"detector": "NRCA1"}, None, "only for MIRI data"),
        ({}, "N/A", "No RSCD reference file applies"),
        ({"readpatt": "SLOWR1"}, None, "READPATT=SLOWR1, SUBARRAY=FULL combination not found"),
    ],
)
def test_not_applicable_is_skipped_unchanged(tmp_path, caplog, ramp_kw, override, message):
    ramp = miri_ramp(**ramp_kw)
    with caplog.at_level(logging.WARNING):
        out = RscdStep.call(ramp, override_rscd=override or rscd_file(tmp_path))
    assert out.meta.cal_step.rscd == "SKIPPED"
    np.testing.assert_array_equal(out.groupdq, ramp.groupdq)
    assert message in caplog.text


def test_reference_without_table_is_a_clear_error(tmp_path):
    ref = RSCDModel()
    path = tmp_path / "empty_rscd.fits"
    ref.save(str(path))
    with pytest.raises(ReferenceFileError, match="has no RSCD_GROUP_SKIP table"):
        RscdStep.call(miri_ramp(), override_rscd=str(path))
