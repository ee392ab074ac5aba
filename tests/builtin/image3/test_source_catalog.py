"""source_catalog: its references in the embedded set, the catalog against the truth, jwst's fallbacks."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from builtin_steps.refdata.catalog_files import EE_FRACTIONS, SKY_IN, SKY_OUT, abvega_offset
from builtin_steps.refdata.psf import PSF_SIGMA, aperture_correction, ee_radius, encircled_energy
from builtin_steps.source_catalog.step import SourceCatalogStep
from pipeline_core.errors import ParameterError
from tests.builtin.image3._scenes import PRODUCT, pixel_area


@pytest.fixture(scope="module")
def mosaic(stage):
    from pipeline_core.datamodels import open_model

    return open_model(str(stage[0] / f"{PRODUCT}_i2d.fits"))


@pytest.fixture(scope="module")
def cutout(mosaic):
    """A 70 x 70 corner of the mosaic (a few stars), for the quick behaviour tests."""
    part = mosaic.copy()
    for name in ("data", "err", "wht", "dq"):
        setattr(part, name, np.ascontiguousarray(getattr(mosaic, name)[:70, :70]))
    return part


def test_encircled_energy_of_the_synthetic_star():
    # a wide star: the B-spline only adds its variance (1/4) to the Gaussian's
    wide = encircled_energy(np.array([3.0, 6.0, 9.0]), sigma=6.0)
    assert np.allclose(wide, 1 - np.exp(-np.array([9.0, 36.0, 81.0]) / (2 * (36.0 + 0.25))), atol=2e-4)
    radii = ee_radius(np.array([0.3, 0.5, 0.7]))
    assert np.allclose(encircled_energy(radii), [0.3, 0.5, 0.7], atol=1e-4)
    assert np.all(np.diff(radii) > 0) and 1.0 < radii[0] < radii[-1] < 2.5 * PSF_SIGMA
    # the sky annulus holds almost none of the star: the correction is 1 / EE
    assert aperture_correction(float(radii[2]), SKY_IN, SKY_OUT) == pytest.approx(1 / 0.7, rel=1e-4)


@pytest.mark.parametrize("exp_type, instrument, detector, filt, pupil, subarray", [
    ("NRC_IMAGE", "NIRCAM", "NRCB1", "F444W", "CLEAR", "FULL"),
    ("NIS_IMAGE", "NIRISS", "NIS", "CLEAR", "F150W", "SUB80"),
    ("MIR_IMAGE", "MIRI", "MIRIMAGE", "F770W", None, "SUB64"),
])
def test_embedded_set_selects_catalog_references(image3_crds, exp_type, instrument, detector, filt, pupil,
                                                 subarray):
    from builtin_steps.source_catalog.references import abvega_offset as offset_of
    from builtin_steps.source_catalog.references import aperture_params
    from pipeline_core.datamodels import ImageModel, open_model

    model = ImageModel(data=np.zeros((4, 4), np.float32))
    meta = model.meta
    meta.telescope, meta.exposure.type = "JWST", exp_type
    meta.instrument.name, meta.instrument.detector, meta.instrument.filter = instrument, detector, filt
    if pupil:
        meta.instrument.pupil = pupil
    meta.subarray.name = subarray
    meta.observation.date, meta.observation.time = "2024-09-15", "03:12:00"
    step = SourceCatalogStep()
    apcorr = open_model(step.get_reference_file(model, "apcorr"))
    offsets = open_model(step.get_reference_file(model, "abvegaoffset"))
    assert type(apcorr).__name__ == "ApcorrModel" and type(offsets).__name__ == "ABVegaOffsetModel"
    config = {"filter": filt, "pupil": pupil, "subarray": subarray}
    params = aperture_params(apcorr.apcorr_table, instrument, config, (30, 50, 70), 1.0)
    assert np.allclose(params.radii, ee_radius(np.array([0.3, 0.5, 0.7])), rtol=1e-5)
    assert params.corrections[-1] == pytest.approx(1 / 0.7, rel=1e-4)
    assert (params.bkg_inner, params.bkg_outer) == (SKY_IN, SKY_OUT)
    assert len(apcorr.apcorr_table) % len(EE_FRACTIONS) == 0
    assert offset_of(offsets.abvega_offset, instrument, config) == pytest.approx(abvega_offset(filt, pupil))


def test_catalog_matches_truth(stage, mosaic, cals):
    """Isolated stars with S/N > 100: positions within 0.05 pixel; total fluxes right to 1 %."""
    from astropy.table import Table

    from pipeline_core.datamodels import open_model

    truth = cals[1]
    catalog = Table.read(stage[0] / f"{PRODUCT}_cat.ecsv")
    # where the stage's WCSs (after tweakreg) put each exposure's stars in the mosaic, averaged
    placed = []
    for index, model in enumerate(cals[0]):
        crf = open_model(str(stage[0] / model.meta.filename.replace("_cal", "_crf")))
        placed.append(mosaic.meta.wcs.invert(*crf.meta.wcs(*truth["positions"][index])))
    x_true, y_true = np.mean(placed, axis=0)
    stars = np.array([s[:2] for s in truth["stars"]])
    gaps = np.hypot(*(stars[:, None, :] - stars[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    # scene flux (sum of MJy/sr pixel values) to Jy: the true area of the pixels it was drawn on
    first_x, first_y = truth["positions"][0]
    true_jy = np.array([s[2] for s in truth["stars"]]) * pixel_area(cals[0][0].meta.wcs, first_x, first_y) * 1e6
    x, y = np.asarray(catalog["xcentroid"]), np.asarray(catalog["ycentroid"])
    match = np.hypot(x[:, None] - x_true, y[:, None] - y_true).argmin(axis=0)
    flux = np.asarray(catalog["aper_total_flux"])[match]
    snr = flux / np.asarray(catalog["aper_total_flux_err"])[match]
    chosen = (gaps.min(axis=1) > 14) & (snr > 100)
    assert chosen.sum() >= 30
    offsets = np.hypot(x[match] - x_true, y[match] - y_true)[chosen]
    assert offsets.max() < 0.05
    ratio = (flux / true_jy)[chosen]
    # the apertures and corrections of the APCORR reference are right on average ...
    assert abs(np.median(ratio) - 1) < 0.01
    # ... and each star is off only by where it falls on the pixels (aperture photometry of a
    # 3-pixel FWHM star: 0.5-0.8 % rms, a little more for a few)
    assert np.std(ratio) < 0.01 and np.abs(ratio - 1).max() < 0.025
    # magnitudes: AB from Jy, Vega = AB - offset of F200W/CLEAR
    abmag = np.asarray(catalog["aper_total_abmag"])[match][chosen]
    assert np.allclose(abmag, -2.5 * np.log10(flux[chosen]) + 8.9)
    vega = np.asarray(catalog["aper_total_vegamag"])[match][chosen]
    assert np.allclose(abmag - vega, abvega_offset("F200W", "CLEAR"), atol=1e-5)
    assert catalog.meta["abvega_offset"] == pytest.approx(abvega_offset("F200W", "CLEAR"), abs=1e-5)


def test_not_applicable_references_fall_back_as_jwst(cutout, caplog):
    with caplog.at_level(logging.WARNING):
        table = SourceCatalogStep.call(cutout, override_apcorr="N/A", override_abvegaoffset="N/A")
    assert table.meta["aperture_params"]["aperture_radii"] == [1.0, 2.0, 3.0]
    assert "aper1_flux" in table.colnames and "aper3_flux" in table.colnames
    assert np.allclose(table["aper_total_flux"], table["aper3_flux"])
    assert np.allclose(table["aper_total_vegamag"], table["aper_total_abmag"], equal_nan=True)
    assert "No APCORR reference file (N/A)" in caplog.text and "No ABVEGAOFFSET" in caplog.text


def test_reference_without_the_filter_makes_no_catalog(cutout, caplog):
    other = cutout.copy()
    other.meta.instrument.filter = "F999W"
    with caplog.at_level(logging.WARNING):
        assert SourceCatalogStep.call(other) is None
    assert "no row for filter=F999W" in caplog.text and "Source catalog will not be created" in caplog.text


def test_bad_aperture_ee_is_refused(cutout):
    with pytest.raises(ParameterError, match=r"aperture_ee1..3 = \[50, 30, 70\].*increase"):
        SourceCatalogStep.call(cutout, aperture_ee1=50, aperture_ee2=30)
    with pytest.raises(Exception, match="MJy/sr"):
        wrong = cutout.copy()
        wrong.meta.bunit_data = "DN/s"
        SourceCatalogStep.call(wrong)
