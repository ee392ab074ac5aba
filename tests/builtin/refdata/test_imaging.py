"""The imaging part of the embedded set: SIAF distortion, filter offsets, flats, photom, area."""

from __future__ import annotations

import os

import asdf
import numpy as np
import pytest
from astropy.io import fits

from builtin_steps.refdata import imaging
from builtin_steps.refdata.siaf import APERTURES, ideal_pixel_area, siaf_aperture


def _files(cache, reftype):
    refs = os.path.join(cache, "references", "jwst")
    return sorted(os.path.join(refs, f) for f in os.listdir(refs) if f"_{reftype}_" in f)


def test_every_imaging_detector_has_a_siaf_distortion(embedded_crds_cache):
    files = _files(embedded_crds_cache, "distortion")
    assert len(files) == len(APERTURES) == 12
    seen = set()
    rng = np.random.default_rng(3)
    for path in files:
        with asdf.open(path) as af:
            meta, model = af.tree["meta"], af.tree["model"]
            inst, det = meta["instrument"]["name"], meta["instrument"]["detector"]
            assert (meta["reftype"], meta["model_type"], meta["output_units"]) == ("DISTORTION", "DistortionModel", "arcsec")
            ap = siaf_aperture(inst, APERTURES[(inst, det)].name)
            x, y = rng.uniform(0, ap.XSciSize - 1, 20), rng.uniform(0, ap.YSciSize - 1, 20)
            np.testing.assert_allclose(model(x, y), ap.sci_to_tel(x + 1, y + 1), rtol=0, atol=1e-9)
            seen.add((inst, det))
    assert seen == set(APERTURES)


def test_filter_offsets_list_the_imaging_filters(embedded_crds_cache):
    for path in _files(embedded_crds_cache, "filteroffset"):
        with asdf.open(path) as af:
            meta, rows = af.tree["meta"], af.tree["filters"]
            inst, det = meta["instrument"]["name"], meta["instrument"]["detector"]
            assert [(r["filter"], r.get("pupil")) for r in rows] == list(imaging.imaging_filters(inst, det))
            assert all(r["column_offset"] == r["row_offset"] == 0.0 for r in rows)


def test_area_is_the_jacobian_of_the_distortion(embedded_crds_cache):
    path = next(p for p in _files(embedded_crds_cache, "area") if fits.getval(p, "DETECTOR") == "MIRIMAGE")
    with fits.open(path) as hdul:
        header, area = hdul[0].header, hdul["SCI"].data
    assert header["DATAMODL"] == "PixelAreaModel" and header["SUBARRAY"] == "FULL"
    assert area.shape == (1024, 1032)  # full frame, as the JWST photom step expects
    # finite differences of the SIAF transform at a few pixels
    ap = siaf_aperture("MIRI", "MIRIM_FULL")
    for x, y in ((5, 7), (600, 950)):
        fx, fy = x + header["SUBSTRT1"], y + header["SUBSTRT2"]  # 1-based science pixels
        (x0, y0), (x1, y1), (x2, y2) = (ap.sci_to_idl(fx + dx, fy + dy) for dx, dy in ((0, 0), (1e-3, 0), (0, 1e-3)))
        jac = abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) / 1e-6
        assert area[y, x] * header["PIXAR_A2"] == pytest.approx(jac, rel=1e-4)
    cut, nominal = ideal_pixel_area("MIRI", "MIRIMAGE", slice(778, 842), slice(0, 72))
    np.testing.assert_array_equal(cut, area[778:842, 0:72])
    assert nominal == pytest.approx(header["PIXAR_A2"])


def test_photom_tables_have_the_jwst_layout(embedded_crds_cache):
    for path in _files(embedded_crds_cache, "photom"):
        with fits.open(path) as hdul:
            names = [c.name for c in hdul["PHOTOM"].columns]
            assert hdul[0].header["REFTYPE"] == "PHOTOM" and hdul[0].header["PIXAR_SR"] > 0
            second = "subarray" if hdul[0].header["INSTRUME"] == "MIRI" else "pupil"
            assert names == ["filter", second, "photmjsr", "uncertainty"]
