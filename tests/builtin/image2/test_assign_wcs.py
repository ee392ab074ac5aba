"""assign_wcs: the imaging WCS reproduces pysiaf's own pixel -> sky transform."""

from __future__ import annotations

import asdf
import numpy as np
import pytest

from builtin_steps.assign_wcs import AssignWcsStep
from builtin_steps.assign_wcs.pointing import reference_from_v1
from builtin_steps.refdata.siaf import APERTURES, siaf_aperture
from pipeline_core.datamodels import open_model
from pipeline_core.errors import ReferenceFileError, StepError
from tests.builtin.image2._rates import POINTING, make_rate

MAS = 1.0 / 3600e3  # degrees


def _siaf_sky(model, x, y, attitude_args):
    """pysiaf's sky positions of 0-based subarray pixels, through the full-frame aperture."""
    from pysiaf.utils import rotations

    inst, det = model.meta.instrument.name, model.meta.instrument.detector
    ap = siaf_aperture(inst, APERTURES[(inst, det)].name)
    ap.set_attitude_matrix(rotations.attitude(*attitude_args))
    sub = model.meta.subarray
    return ap.sci_to_sky(x + sub.xstart, y + sub.ystart)  # 1-based full-frame science pixels


def _separation_mas(ra1, dec1, ra2, dec2):
    return np.hypot((ra1 - ra2) * np.cos(np.deg2rad(dec1)), dec1 - dec2) / MAS


@pytest.mark.parametrize(
    ("kind", "full_frame"), [("nircam", True), ("nircam160", False), ("niriss", False), ("miri", False)]
)
def test_wcs_reproduces_pysiaf_to_a_micro_arcsecond(crds_env, kind, full_frame):
    model = make_rate(kind, full_frame=full_frame)
    result = AssignWcsStep.call(model, sip_approx=not full_frame)
    ny, nx = model.data.shape
    y, x = (a.ravel().astype(float) for a in np.mgrid[0 : ny - 1 : 15j, 0 : nx - 1 : 15j])
    ra, dec = result.meta.wcs(x, y)
    info = model.meta.wcsinfo
    ra_s, dec_s = _siaf_sky(model, x, y, (info.v2_ref, info.v3_ref, POINTING[0], POINTING[1], POINTING[2]))
    assert np.max(_separation_mas(ra, dec, ra_s, dec_s)) < 1.0
    assert result.meta.cal_step.assign_wcs == "COMPLETE"
    assert result.meta.wcs.available_frames == ["detector", "v2v3", "v2v3vacorr", "world"]
    # the round trip through the SIAF's inverse polynomials stays within a few hundredths of a pixel
    xi, yi = result.meta.wcs.invert(ra, dec)
    assert np.max(np.hypot(xi - x, yi - y)) < 0.05


def test_v1_pointing_gives_the_same_attitude_as_pysiaf(crds_env):
    from pysiaf.utils import rotations

    model = make_rate("nircam", pointing=False)
    ra_v1, dec_v1, pa_v3 = 80.1, -69.3, 250.0
    model.meta.pointing.ra_v1, model.meta.pointing.dec_v1, model.meta.pointing.pa_v3 = ra_v1, dec_v1, pa_v3
    result = AssignWcsStep.call(model, sip_approx=False)
    x, y = np.array([0.0, 31.5, 63.0]), np.array([0.0, 20.0, 63.0])
    ra, dec = result.meta.wcs(x, y)
    ra_s, dec_s = _siaf_sky(model, x, y, (0.0, 0.0, ra_v1, dec_v1, pa_v3))
    assert np.max(_separation_mas(ra, dec, ra_s, dec_s)) < 1.0
    # and the reference pointing written to wcsinfo is pysiaf's
    att = rotations.attitude(0.0, 0.0, ra_v1, dec_v1, pa_v3)
    info = result.meta.wcsinfo
    ra_ref, dec_ref = rotations.pointing(att, info.v2_ref, info.v3_ref)
    assert _separation_mas(info.ra_ref, info.dec_ref, ra_ref, dec_ref) < 1e-3
    assert abs(info.roll_ref - rotations.posangle(att, info.v2_ref, info.v3_ref) % 360) < 1e-6
    assert reference_from_v1(ra_v1, dec_v1, pa_v3, info.v2_ref, info.v3_ref) == pytest.approx(
        (info.ra_ref, info.dec_ref, info.roll_ref)
    )


def test_filter_offset_shifts_the_pixels(crds_env, tmp_path):
    plain = AssignWcsStep.call(make_rate("nircam"), sip_approx=False).meta.wcs
    path = tmp_path / "filteroffset.asdf"
    asdf.AsdfFile(
        {
            "meta": {"reftype": "FILTEROFFSET", "instrument": {"name": "NIRCAM"}},
            "filters": [
                {"filter": "F200W", "pupil": "CLEAR", "column_offset": 2.0, "row_offset": -1.5},
                {"filter": "F150W", "pupil": "CLEAR", "column_offset": 9.0, "row_offset": 9.0},
            ],
        }
    ).write_to(path)
    shifted = AssignWcsStep.call(make_rate("nircam"), sip_approx=False, override_filteroffset=str(path)).meta.wcs
    x, y = np.array([3.0, 40.0]), np.array([5.0, 50.0])
    np.testing.assert_allclose(shifted(x, y), plain(x + 2.0, y - 1.5), rtol=0, atol=1e-11)


def test_sip_approximation_and_s_region(crds_env):
    result = AssignWcsStep.call(make_rate("nircam160"))
    info = result.meta.wcsinfo
    assert info.ctype1 == "RA---TAN-SIP" and info.a_order >= 1
    assert info.s_region.startswith("POLYGON ICRS")
    corners = np.array(info.s_region.split()[2:], float).reshape(4, 2)
    ra, dec = result.meta.wcs(-0.5, -0.5, with_bounding_box=False)
    assert _separation_mas(corners[0, 0], corners[0, 1], ra, dec) < 1.0


def test_wcs_survives_save_and_open(crds_env, tmp_path):
    result = AssignWcsStep.call(make_rate("niriss"))
    path = result.save(tmp_path / "jw_nis_cal.fits")
    again = open_model(path)
    np.testing.assert_allclose(again.meta.wcs(10.0, 20.0), result.meta.wcs(10.0, 20.0), rtol=0, atol=1e-12)
    assert again.meta.wcsinfo.s_region == result.meta.wcsinfo.s_region


def test_missing_pointing_is_a_clear_error(crds_env):
    model = make_rate("nircam", pointing=False)
    with pytest.raises(StepError) as info:
        AssignWcsStep.call(model)
    message = str(info.value)
    assert "step 'assign_wcs': 'jw01234001001_01101_00001_nrca1_rate.fits' has no telescope pointing" in message
    assert "RA_REF, DEC_REF, ROLL_REF" in message and "RA_V1" in message
    assert "add the keywords to the SCI header" in message


def test_missing_v2_ref_is_a_clear_error(crds_env):
    model = make_rate("nircam")
    del model.meta.wcsinfo.v2_ref
    with pytest.raises(StepError, match=r"meta.wcsinfo.v2_ref = None.*V2_REF"):
        AssignWcsStep.call(model)


def test_a_reference_of_the_wrong_type_is_refused(crds_env, tmp_path):
    from tests.builtin.image2._rates import make_flat

    flat = make_flat((64, 64)).save(tmp_path / "not_a_distortion.fits")
    with pytest.raises(ReferenceFileError) as info:
        AssignWcsStep.call(make_rate("nircam"), override_distortion=flat)
    assert "a FLAT reference file" in str(info.value) and "override_distortion" in str(info.value)


def test_a_distortion_for_another_detector_is_refused(crds_env, tmp_path):
    path = tmp_path / "distortion.asdf"
    from astropy.modeling.models import Identity

    asdf.AsdfFile({"meta": {"reftype": "DISTORTION", "instrument": {"name": "NIRCAM", "detector": "NRCB4"}},
                   "model": Identity(2)}).write_to(path)
    with pytest.raises(ReferenceFileError, match="is for detector NRCB4, but the data are NRCA1"):
        AssignWcsStep.call(make_rate("nircam"), override_distortion=str(path))


def test_spectroscopic_exposures_are_refused(crds_env):
    model = make_rate("nircam")
    model.meta.exposure.type = "NRC_WFSS"
    with pytest.raises(StepError, match="EXP_TYPE='NRC_WFSS'.*imaging"):
        AssignWcsStep.call(model)
