"""``steppe show --catalog``: the sources of a catalog circled on the quick-look picture."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from pipeline_core.cli.main import run_cli
from pipeline_core.cli.show import render_quicklook
from pipeline_core.cli.show_catalog import catalog_positions
from pipeline_core.datamodels import ImageModel
from pipeline_core.errors import DataModelError

SHAPE = (60, 80)
#: (x, y) of the stars, 0-based pixels; the last one is off the image.
STARS = [(10.0, 12.0), (40.5, 30.25), (70.0, 50.0), (25.0, 45.0), (120.0, 20.0)]
HEADER = dict(CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRVAL1=80.5, CRVAL2=-69.5, CRPIX1=40.0,
              CRPIX2=30.0, CDELT1=-8.7e-6, CDELT2=8.7e-6, CUNIT1="deg", CUNIT2="deg")


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_cli(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _image(path: Path, *, wcs: bool) -> Path:
    rng = np.random.default_rng(3)
    model = ImageModel(SHAPE)
    y, x = np.mgrid[: SHAPE[0], : SHAPE[1]]
    data = rng.normal(0.0, 1.0, SHAPE)
    for sx, sy in STARS:
        data += 200.0 * np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / 4.0)
    model.data[...] = data.astype(np.float32)
    model.save(str(path))
    if wcs:
        with fits.open(path, mode="update") as hdus:
            hdus["SCI"].header.update(HEADER)
    return path


def _lime_pixels(png: str) -> int:
    from matplotlib.image import imread

    rgb = imread(png)[..., :3]
    return int(np.count_nonzero((rgb[..., 1] > 0.9) & (rgb[..., 0] < 0.2) & (rgb[..., 2] < 0.2)))


def test_pixel_columns_circle_the_sources_on_the_image(tmp_path):
    product = _image(tmp_path / "jw_x_i2d.fits", wcs=False)
    catalog = tmp_path / "jw_x_cat.ecsv"
    Table({"label": np.arange(1, 6), "xcentroid": [s[0] for s in STARS],
           "ycentroid": [s[1] for s in STARS]}).write(catalog, format="ascii.ecsv")
    status, out, err = cli("show", str(product), "--catalog", str(catalog), "-o", str(tmp_path / "a.png"))
    assert status == 0, err
    assert out == (f"steppe show: wrote {tmp_path / 'a.png'} (image, 80x60, pixel axes (no WCS), "
                   "0 DO_NOT_USE pixel(s), 4 of 5 catalog sources circled)\n")
    plain = render_quicklook(product, tmp_path / "b.png")
    assert (plain.sources, plain.catalog_rows) == (0, 0)
    # four rings, and the legend's marker
    assert _lime_pixels(str(tmp_path / "a.png")) > 4 * 20
    assert _lime_pixels(str(tmp_path / "b.png")) == 0


def test_sky_centroid_goes_through_the_wcs(tmp_path):
    product = _image(tmp_path / "jw_x_i2d.fits", wcs=True)
    world = WCS(fits.Header(HEADER)).pixel_to_world([s[0] for s in STARS], [s[1] for s in STARS])
    catalog = tmp_path / "jw_x_cat.ecsv"
    # xcentroid deliberately wrong: the sky positions win when the product has a WCS
    Table({"xcentroid": np.zeros(5), "ycentroid": np.zeros(5), "sky_centroid": world}).write(catalog)
    picture = render_quicklook(product, catalog=catalog)
    assert picture.wcs and (picture.sources, picture.catalog_rows) == (4, 5)
    with fits.open(product) as hdus:
        positions = catalog_positions(catalog, WCS(hdus["SCI"].header).celestial)
    assert positions.columns == "sky positions through the WCS"
    np.testing.assert_allclose(positions.x, [s[0] for s in STARS], atol=1e-6)
    np.testing.assert_allclose(positions.y, [s[1] for s in STARS], atol=1e-6)


def test_steppe_catalog_columns_in_degrees(tmp_path):
    """steppe's source_catalog writes sky_centroid_ra / sky_centroid_dec (degrees, no unit)."""
    wcs = WCS(fits.Header(HEADER))
    world = wcs.pixel_to_world([s[0] for s in STARS], [s[1] for s in STARS])
    catalog = tmp_path / "cat.ecsv"
    Table({"sky_centroid_ra": world.ra.deg, "sky_centroid_dec": world.dec.deg}).write(catalog)
    positions = catalog_positions(catalog, wcs)
    np.testing.assert_allclose(positions.x, [s[0] for s in STARS], atol=1e-6)
    sky = SkyCoord(ra=world.ra.deg * u.deg, dec=world.dec.deg * u.deg)
    Table({"ra": sky.ra.to(u.hourangle), "dec": sky.dec}).write(tmp_path / "h.ecsv")  # a unit is honoured
    np.testing.assert_allclose(catalog_positions(tmp_path / "h.ecsv", wcs).y, [s[1] for s in STARS], atol=1e-6)


def test_a_missing_catalog_is_refused(tmp_path):
    product = _image(tmp_path / "jw_x_i2d.fits", wcs=False)
    status, out, err = cli("show", str(product), "--catalog", str(tmp_path / "nope.ecsv"))
    assert status == 1 and out == ""
    assert "steppe show --catalog: the catalog" in err and "nope.ecsv" in err and "does not exist" in err
    assert "xcentroid" in err  # what is accepted
    assert not (tmp_path / "jw_x_i2d.png").exists()


def test_a_catalog_without_positions_is_refused(tmp_path):
    product = _image(tmp_path / "jw_x_i2d.fits", wcs=False)
    catalog = tmp_path / "fluxes.ecsv"
    Table({"label": [1, 2], "aper50_flux": [1.0, 2.0]}).write(catalog)
    with pytest.raises(DataModelError, match=r"has no source positions \(columns: label, aper50_flux\)"):
        render_quicklook(product, catalog=catalog)
    sky_only = tmp_path / "sky.ecsv"
    Table({"sky_centroid_ra": [80.5], "sky_centroid_dec": [-69.5]}).write(sky_only)
    with pytest.raises(DataModelError, match="the product has no WCS to place its sky positions"):
        render_quicklook(product, catalog=sky_only)


def test_a_file_that_is_not_a_table_is_refused(tmp_path):
    product = _image(tmp_path / "jw_x_i2d.fits", wcs=False)
    junk = tmp_path / "junk.ecsv"
    junk.write_text("this is not a table\n")
    with pytest.raises(DataModelError, match=r"cannot read .*junk\.ecsv.* as a table"):
        render_quicklook(product, catalog=junk)
