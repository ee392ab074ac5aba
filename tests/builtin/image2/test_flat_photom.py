"""flat_field and photom: exact application of synthetic references, DQ and NaN rules."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.flat_field import FlatFieldStep
from builtin_steps.flat_field.apply import apply_flat
from builtin_steps.photom import PhotomStep
from builtin_steps.photom.conversion import MJSR_TO_UJA2
from pipeline_core.datamodels import FlatModel, open_model
from pipeline_core.datamodels.dqflags import pixel
from pipeline_core.errors import ReferenceFileError, StepError
from tests.builtin.image2._rates import make_area, make_flat, make_photom, make_rate

DNU, NOFLAT = pixel["DO_NOT_USE"], pixel["NO_FLAT_FIELD"]


@pytest.fixture
def flat_file(tmp_path):
    return make_flat((64, 64)).save(tmp_path / "flat.fits")


def test_flat_is_divided_exactly_with_jwst_dq_rules(crds_env, flat_file):
    rate = make_rate("nircam")
    flat = open_model(flat_file)
    result = FlatFieldStep.call(rate, override_flat=flat_file)
    good = np.ones((64, 64), bool)
    good[1, 2] = good[3, 4] = good[5, 6] = False
    f = np.where(good, flat.data, np.float32(1))
    np.testing.assert_array_equal(result.data[good], (rate.data / f)[good])
    np.testing.assert_allclose(result.var_rnoise[good], (rate.var_rnoise / f**2)[good], rtol=1e-6)
    np.testing.assert_allclose(result.var_poisson[good], (rate.var_poisson / f**2)[good], rtol=1e-6)
    expected_vf = (result.data * flat.err / f) ** 2
    np.testing.assert_allclose(result.var_flat[good], expected_vf[good], rtol=1e-6)
    np.testing.assert_allclose(
        result.err[good], np.sqrt(result.var_rnoise + result.var_poisson + result.var_flat)[good], rtol=1e-6
    )
    for y, x in ((1, 2), (3, 4)):  # NaN and zero flat: NO_FLAT_FIELD + DO_NOT_USE, NaN data
        assert result.dq[y, x] & NOFLAT and result.dq[y, x] & DNU
        assert np.isnan(result.data[y, x]) and np.isnan(result.err[y, x])
    assert result.dq[5, 6] & DNU  # NO_FLAT_FIELD in the reference
    assert result.dq[good].max() == 0
    assert result.meta.cal_step.flat_field == "COMPLETE"
    assert result.meta.ref_file.flat.name == flat_file


def test_inverse_undoes_the_flat(crds_env, flat_file):
    rate = make_rate("nircam")
    once = FlatFieldStep.call(rate, override_flat=flat_file)
    back = FlatFieldStep.call(once, override_flat=flat_file, inverse=True)
    good = np.isfinite(back.data)
    np.testing.assert_allclose(back.data[good], rate.data[good], rtol=1e-6)
    assert not np.nan_to_num(back.var_flat).any()


def test_flat_kernel_broadcasts_over_integrations():
    data = np.full((3, 4, 4), 6.0, np.float32)
    flat = np.full((4, 4), 2.0, np.float32)
    out = apply_flat(data, np.zeros((3, 4, 4), np.uint32), None, None, flat, np.zeros((4, 4), np.uint32),
                     np.zeros((4, 4), np.float32), do_not_use=DNU, no_flat_field=NOFLAT)
    assert out.data.shape == (3, 4, 4) and np.all(out.data == 3.0)


def test_full_frame_flat_is_cut_to_the_subarray(crds_env, tmp_path):
    big = make_flat((200, 80), window=(1, 1))
    path = big.save(tmp_path / "big_flat.fits")
    result = FlatFieldStep.call(make_rate("nircam"), override_flat=path)  # subarray at x=1, y=101
    ref = big.data[100:164, 0:64]
    good = np.isfinite(ref) & (ref != 0)
    assert good.sum() == 64 * 64  # the flat's bad pixels lie outside this subarray
    np.testing.assert_allclose(result.data, make_rate("nircam").data / ref, rtol=1e-6)


def test_flat_not_applicable_skips(crds_env):
    result = FlatFieldStep.call(make_rate("nircam"), override_flat="N/A")
    assert result.meta.cal_step.flat_field == "SKIPPED"
    np.testing.assert_array_equal(result.data, make_rate("nircam").data)


def test_user_supplied_flat(crds_env, flat_file):
    result = FlatFieldStep.call(make_rate("nircam"), user_supplied_flat=flat_file)
    assert result.meta.ref_file.flat.name == flat_file
    assert np.isnan(result.data[1, 2])


def test_embedded_flat_is_the_synthetic_truth(crds_env):
    from builtin_steps.refdata.imaging_files import flat_truth

    rate = make_rate("nircam160")
    result = FlatFieldStep.call(rate)
    truth, _, dq = flat_truth("NIRCAM", "NRCA1", "F200W", slice(0, 160), slice(1888, 2048))
    good = np.isfinite(truth) & (truth != 0) & (dq == 0)
    np.testing.assert_array_equal(result.data[good], (rate.data / np.where(good, truth, 1))[good])


def test_unknown_filter_names_the_filter(crds_env):
    rate = make_rate("nircam")
    rate.meta.instrument.filter = "F999W"
    with pytest.raises(ReferenceFileError) as info:
        FlatFieldStep.call(rate)
    assert "META.INSTRUMENT.FILTER='F999W'" in str(info.value) and "override_flat" in str(info.value)


def test_a_gain_file_as_flat_is_refused(crds_env, tmp_path):
    from pipeline_core.datamodels import GainModel

    gain = GainModel(data=np.ones((64, 64), np.float32)).save(tmp_path / "gain.fits")
    with pytest.raises(ReferenceFileError, match=r"a GAIN reference file .*a FLAT file is needed"):
        FlatFieldStep.call(make_rate("nircam"), override_flat=gain)


# ------------------------------------------------------------------ photom
@pytest.fixture
def photom_files(tmp_path):
    table = make_photom([("F200W", "CLEAR", 0.25), ("F150W", "CLEAR", 0.3)])
    return table.save(tmp_path / "photom.fits"), make_area((64, 64)).save(tmp_path / "area.fits")


def test_photom_applies_the_conversion_exactly(crds_env, photom_files):
    photom, area = photom_files
    rate = make_rate("nircam")
    result = PhotomStep.call(rate, override_photom=photom, override_area=area)
    factor = np.float32(0.25)
    np.testing.assert_array_equal(result.data, rate.data * factor)
    np.testing.assert_array_equal(result.err, rate.err * factor)
    np.testing.assert_allclose(result.var_rnoise, rate.var_rnoise * factor**2, rtol=1e-6)
    photometry = result.meta.photometry
    assert photometry.conversion_megajanskys == pytest.approx(0.25)
    assert photometry.conversion_microjanskys == pytest.approx(0.25 * MJSR_TO_UJA2)
    assert photometry.pixelarea_steradians == pytest.approx(2.2e-14)  # from the AREA file
    assert photometry.pixelarea_arcsecsq == pytest.approx(2.2e-14 / (np.pi / 180 / 3600) ** 2)
    np.testing.assert_array_equal(result.area, open_model(area).data)
    assert result.meta.bunit_data == "MJy/sr" and result.meta.bunit_err == "MJy/sr"
    back = PhotomStep.call(result, override_photom=photom, override_area=area, inverse=True)
    np.testing.assert_allclose(back.data, rate.data, rtol=1e-6)
    assert back.meta.bunit_data == "DN/s"


def test_photom_saves_the_keywords(crds_env, photom_files, tmp_path):
    from astropy.io import fits

    photom, area = photom_files
    path = PhotomStep.call(make_rate("nircam"), override_photom=photom, override_area=area).save(tmp_path / "x_cal.fits")
    header = fits.getheader(path)
    assert header["PHOTMJSR"] == pytest.approx(0.25) and header["PIXAR_SR"] == pytest.approx(2.2e-14)
    assert fits.getheader(path, "SCI")["BUNIT"] == "MJy/sr"
    assert fits.getdata(path, "AREA").shape == (64, 64)


def test_photom_unknown_filter_is_a_clear_error(crds_env, photom_files):
    photom, area = photom_files
    rate = make_rate("nircam")
    rate.meta.instrument.filter = "F999W"
    with pytest.raises(StepError) as info:
        PhotomStep.call(rate, override_photom=photom, override_area=area)
    message = str(info.value)
    assert "FILTER='F999W', PUPIL='CLEAR'" in message and "has no row for it" in message
    assert "F150W / CLEAR, F200W / CLEAR" in message and "override_photom" in message


def test_embedded_photom_and_area_for_miri(crds_env):
    from builtin_steps.refdata.imaging_files import photmjsr
    from builtin_steps.refdata.siaf import ARCSEC2_TO_SR, ideal_pixel_area

    rate = make_rate("miri")
    result = PhotomStep.call(rate)
    factor = np.float32(photmjsr("F770W", None))
    np.testing.assert_allclose(result.data, rate.data * factor, rtol=1e-6)
    area, nominal = ideal_pixel_area("MIRI", "MIRIMAGE", slice(778, 842), slice(0, 72))
    np.testing.assert_allclose(result.area, area, rtol=1e-6)
    assert result.meta.photometry.pixelarea_steradians == pytest.approx(nominal * ARCSEC2_TO_SR)


def test_photom_not_applicable_skips(crds_env):
    result = PhotomStep.call(make_rate("nircam"), override_photom="N/A")
    assert result.meta.cal_step.photom == "SKIPPED"


def test_flat_model_opens_the_embedded_file(crds_env):
    rate = make_rate("nircam")
    path = FlatFieldStep().get_reference_file(rate, "flat")
    assert isinstance(open_model(path), FlatModel)
