"""resample: flux conservation, astrometry, the output grid parameters, weights and products."""

from __future__ import annotations

import asdf
import numpy as np
import pytest

from builtin_steps.assign_wcs import AssignWcsStep
from builtin_steps.refdata.siaf import ideal_pixel_area
from builtin_steps.resample import ResampleStep
from pipeline_core.datamodels import open_model
from pipeline_core.datamodels.dqflags import pixel
from pipeline_core.errors import ParameterError, StepError
from tests.builtin.image2._rates import make_rate

SIGMA = 1.6  # pixels


@pytest.fixture(scope="module")
def with_wcs(embedded_crds_cache):
    from pipeline_core.references import crds_client

    patch = pytest.MonkeyPatch()
    patch.setenv("CRDS_PATH", embedded_crds_cache)
    patch.setenv("CRDS_SERVER_URL", crds_client.SERVERLESS_URL)
    crds_client.reset()
    try:
        yield AssignWcsStep.call(make_rate("nircam160"), sip_approx=False)
    finally:
        patch.undo()
        crds_client.reset()


def _source_pixel(wcs, ra, dec):
    """Exact input pixel of a sky position (Newton iterations on the forward transform)."""
    x, y = wcs.invert(ra, dec)
    for _ in range(5):
        r0, d0 = wcs(x, y)
        rx, dx_ = wcs(x + 1e-3, y)
        ry, dy_ = wcs(x, y + 1e-3)
        jac = np.array([[(rx - r0) * np.cos(np.deg2rad(dec)), (ry - r0) * np.cos(np.deg2rad(dec))], [dx_ - d0, dy_ - d0]]) / 1e-3
        step = np.linalg.solve(jac, [(ra - r0) * np.cos(np.deg2rad(dec)), dec - d0])
        x, y = x + step[0], y + step[1]
    return x, y


def _star(model, ra, dec, flux=1000.0):
    x0, y0 = _source_pixel(model.meta.wcs, ra, dec)
    y, x = np.indices(model.data.shape, dtype=float)
    psf = np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * SIGMA**2))
    star = model.copy()
    star.data = (flux * psf / psf.sum()).astype(np.float32)
    return star


def _centroid(image, x, y, half=8):
    ys, xs = int(round(y)), int(round(x))
    cut = np.nan_to_num(image[ys - half : ys + half + 1, xs - half : xs + half + 1].astype(float))
    gy, gx = np.indices(cut.shape)
    return xs - half + (gx * cut).sum() / cut.sum(), ys - half + (gy * cut).sum() / cut.sum()


def _input_solid_angles(model):
    sub = model.meta.subarray
    area, nominal = ideal_pixel_area("NIRCAM", "NRCA1", slice(sub.ystart - 1, sub.ystart - 1 + 160),
                                     slice(sub.xstart - 1, sub.xstart - 1 + 160))
    return area.astype(float) * nominal  # arcsec^2


@pytest.mark.parametrize("ratio", [1.0, 0.5])
def test_flux_is_conserved_and_the_source_lands_at_its_sky_position(with_wcs, ratio):
    ra0, dec0 = with_wcs.meta.wcs(83.3, 71.7)
    star = _star(with_wcs, ra0, dec0)
    out = ResampleStep.call(star, pixel_scale_ratio=ratio)
    flux_in = float((star.data * _input_solid_angles(star)).sum())
    scale = out.meta.photometry.pixelarea_arcsecsq
    flux_out = float(np.nansum(out.data) * scale)
    assert abs(flux_out / flux_in - 1) < 1e-3
    x_true, y_true = out.meta.wcs.invert(ra0, dec0)
    x_c, y_c = _centroid(out.data, x_true, y_true, half=int(8 / ratio))
    assert np.hypot(x_c - x_true, y_c - y_true) < 0.02
    # and the centroid's sky position is the source's, to the same fraction of a pixel
    ra_c, dec_c = out.meta.wcs(x_c, y_c)
    offset = np.hypot((ra_c - ra0) * np.cos(np.deg2rad(dec0)), dec_c - dec0) * 3600
    assert offset < 0.02 * np.sqrt(scale)
    assert out.meta.resample.pixel_scale_ratio == pytest.approx(ratio, rel=0.02)


def test_a_flat_sky_keeps_its_surface_brightness_and_bad_pixels_are_ignored(with_wcs):
    sky = with_wcs.copy()
    sky.data = np.full(sky.data.shape, 3.0, np.float32)
    sky.data[50, 60] = 1e6
    sky.dq[50, 60] = pixel["DO_NOT_USE"]
    out = ResampleStep.call(sky)
    covered = out.wht > 0
    np.testing.assert_allclose(out.data[covered], 3.0, rtol=1e-5)
    assert np.isnan(out.data[~covered]).all()  # fillval NAN
    assert out.con.shape == (1, *out.data.shape) and set(np.unique(out.con[0][covered])) == {1}
    zero_filled = ResampleStep.call(sky, fillval="0")
    assert (zero_filled.data[~covered] == 0).all()


def test_variances_and_error(with_wcs):
    out = ResampleStep.call(with_wcs)
    from scipy.ndimage import binary_erosion

    inner = binary_erosion(out.wht > 0, iterations=3)
    ratio = out.meta.resample.pixel_scale_ratio
    np.testing.assert_allclose(out.var_rnoise[inner], 0.004 / ratio**2, rtol=1e-4)
    np.testing.assert_allclose(out.err[inner], np.sqrt(0.006) / ratio, rtol=1e-4)
    bare = ResampleStep.call(with_wcs, report_var=False)
    assert bare.var_rnoise is None and bare.err is not None
    # ivm weights: 1 / VAR_RNOISE times the fraction of an input pixel one output pixel covers
    area_ratio = np.mean(_input_solid_angles(with_wcs)) / out.meta.photometry.pixelarea_arcsecsq
    np.testing.assert_allclose(out.wht[inner], 1 / 0.004 / area_ratio, rtol=2e-3)
    timed = ResampleStep.call(with_wcs, weight_type="exptime")
    np.testing.assert_allclose(timed.wht[inner] / out.wht[inner], 90.0 * 0.004, rtol=1e-5)  # TMEASURE


def test_rotation_north_up_and_fixed_grid(with_wcs):
    centre = [float(v) for v in with_wcs.meta.wcs(79.5, 79.5)]
    out = ResampleStep.call(with_wcs, rotation=0.0, pixel_scale=0.05, output_shape=[120, 100],
                            crpix=[59.5, 49.5], crval=centre)
    assert out.data.shape == (100, 120)
    ra0, dec0 = out.meta.wcs(59.5, 49.5)
    assert (ra0, dec0) == pytest.approx(centre, abs=1e-9)
    ra_up, dec_up = out.meta.wcs(59.5, 50.5)
    assert ra_up == pytest.approx(ra0, abs=1e-9) and (dec_up - dec0) * 3600 == pytest.approx(0.05, rel=1e-6)
    ra_right, _ = out.meta.wcs(60.5, 49.5)
    assert ra_right < ra0  # east to the left
    info = out.meta.wcsinfo
    assert (info.ctype1, info.crpix1, info.cdelt1) == ("RA---TAN", pytest.approx(60.5), pytest.approx(0.05 / 3600))
    assert info.ra_ref is None and info.v2_ref is None


def test_custom_output_wcs_file(with_wcs, tmp_path):
    first = ResampleStep.call(with_wcs, rotation=30.0)
    path = tmp_path / "grid.asdf"
    asdf.AsdfFile({"wcs": first.meta.wcs}).write_to(path)
    again = ResampleStep.call(with_wcs, output_wcs=str(path))
    assert again.data.shape == first.data.shape
    np.testing.assert_allclose(again.data, first.data, equal_nan=True)


def test_i2d_product_saved_and_reopened(with_wcs, tmp_path):
    out = ResampleStep.call(with_wcs, save_results=True, output_dir=str(tmp_path))
    path = tmp_path / "jw01234001001_01101_00001_nrca1_i2d.fits"
    model = open_model(path)
    assert model.wht.shape == model.data.shape and model.con.dtype == np.int32
    np.testing.assert_allclose(model.meta.wcs(3.0, 4.0), out.meta.wcs(3.0, 4.0), rtol=0, atol=1e-12)
    assert model.meta.cal_step.resample == "COMPLETE" and model.meta.resample.weight_type == "ivm"


def test_inputs_without_wcs_and_bad_parameters(with_wcs, crds_env):
    with pytest.raises(StepError, match="has no WCS.*run assign_wcs"):
        ResampleStep.call(make_rate("nircam"))
    with pytest.raises(ParameterError, match="pixmap_order = 2"):
        ResampleStep.call(with_wcs, pixmap_order=2)
    with pytest.raises(ParameterError, match="fillval = 'abc'"):
        ResampleStep.call(with_wcs, fillval="abc")
    ra, dec = with_wcs.meta.wcs(80.0, 80.0)
    with pytest.raises(ParameterError, match="the inputs fall outside the 50 x 50 output grid"):
        ResampleStep.call(with_wcs, output_shape=[50, 50], crpix=[25.0, 25.0], crval=[float(ra), float(dec) + 0.1])
    with pytest.raises(ParameterError, match="cannot be projected onto a tangent plane"):
        ResampleStep.call(with_wcs, crval=[float(ra) + 180.0, -float(dec)])


def test_pixmap_interpolation_matches_the_exact_map(with_wcs):
    exact = ResampleStep.call(with_wcs)
    fast = ResampleStep.call(with_wcs, pixmap_stepsize=10.0, pixmap_order=3)
    covered = (exact.wht > 0) & (fast.wht > 0)
    np.testing.assert_allclose(fast.data[covered], exact.data[covered], rtol=1e-3)
