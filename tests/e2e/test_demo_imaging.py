"""``steppe demo``: Detector1 and Image2 on four dithered NIRCam exposures, then Image3 on all of them."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from astropy.table import Table

from builtin_steps.refdata.demo import DEMO_PRODUCT, demo_stars, warm_pixels
from pipeline_core.cli.main import run_cli
from pipeline_core.datamodels import open_model

EXPOSURES = [f"jw09999001001_01101_{n:05d}_nrca1" for n in range(1, 5)]
OUTLIER = 16  # the JWST OUTLIER data quality flag


@pytest.fixture(scope="module")
def demo_run(embedded_crds_cache, tmp_path_factory):
    """Run ``steppe demo --quiet`` once; return its folder and printed lines."""
    from pipeline_core.references import crds_client

    patch = pytest.MonkeyPatch()
    patch.setenv("CRDS_PATH", embedded_crds_cache)
    patch.setenv("CRDS_SERVER_URL", crds_client.SERVERLESS_URL)
    patch.delenv("CRDS_CONTEXT", raising=False)
    crds_client.reset()
    folder = tmp_path_factory.mktemp("demo")
    out, err = io.StringIO(), io.StringIO()
    try:
        status = run_cli(["demo", "--output-dir", str(folder), "--quiet"], stdout=out, stderr=err)
    finally:
        crds_client.reset()
        patch.undo()
    assert status == 0, err.getvalue()
    return folder, out.getvalue().splitlines()


def test_every_stage_saves_its_products(demo_run):
    folder, lines = demo_run
    for stem in EXPOSURES:
        for suffix in ("uncal", "rate", "rateints", "cal", "i2d", "crf"):
            assert (folder / f"{stem}_{suffix}.fits").is_file(), (stem, suffix)
    for name in ("asn.json", "i2d.fits", "cat.ecsv", "segm.fits", "i2d.png"):
        path = folder / f"{DEMO_PRODUCT}_{name}"
        assert path.is_file(), name
        assert f"steppe demo: wrote {path}" in lines


def test_the_association_is_a_jwst_level3_association_of_the_cal_products(demo_run):
    folder, lines = demo_run
    asn_path = folder / f"{DEMO_PRODUCT}_asn.json"
    tree = json.loads(asn_path.read_text())
    assert tree["asn_type"] == "image3"
    assert {"asn_rule", "asn_id", "asn_pool", "program", "target", "version_id"} <= set(tree)
    (product,) = tree["products"]
    assert product["name"] == DEMO_PRODUCT
    assert [(m["expname"], m["exptype"]) for m in product["members"]] == [
        (f"{stem}_cal.fits", "science") for stem in EXPOSURES
    ]
    assert f"steppe demo: wrote the association {asn_path} (4 members)" in lines
    assert f"steppe demo: running calwebb_image3 on {asn_path}" in lines
    with open_model(str(folder / f"{DEMO_PRODUCT}_i2d.fits")) as mosaic:
        assert mosaic.meta.asn.table_name == asn_path.name
        assert mosaic.meta.cal_step.tweakreg == "COMPLETE"
        assert mosaic.meta.cal_step.outlier_detection == "COMPLETE"


def test_the_catalog_finds_the_demo_stars(demo_run):
    folder, _ = demo_run
    stars = demo_stars(np.random.default_rng(20240915), 160)
    with open_model(str(folder / f"{EXPOSURES[0]}_cal.fits")) as cal:
        ra, dec = cal.meta.wcs(np.array([s[0] for s in stars]), np.array([s[1] for s in stars]))
    with open_model(str(folder / f"{DEMO_PRODUCT}_i2d.fits")) as mosaic:
        x, y = mosaic.meta.wcs.invert(ra, dec)
    catalog = Table.read(folder / f"{DEMO_PRODUCT}_cat.ecsv", format="ascii.ecsv")
    distance = np.hypot(x[:, None] - np.asarray(catalog["xcentroid"])[None],
                        y[:, None] - np.asarray(catalog["ycentroid"])[None]).min(axis=1)
    assert len(catalog) == len(stars)
    assert np.all(distance < 0.5)  # every star, at its place (pixels of the mosaic)
    assert np.median(distance) < 0.1


def test_outlier_detection_flags_the_warm_pixels_and_nothing_else(demo_run):
    folder, _ = demo_run
    warm = warm_pixels(np.random.default_rng(20240916), (160, 160)) > 0
    for stem in EXPOSURES:
        with open_model(str(folder / f"{stem}_crf.fits")) as crf:
            flagged = (np.asarray(crf.dq) & OUTLIER) != 0
        assert (flagged & warm).sum() >= 0.85 * warm.sum(), stem
        assert (flagged & ~warm).sum() <= 3, stem


def test_the_quick_look_circles_the_catalog_and_is_announced(demo_run):
    folder, lines = demo_run
    from matplotlib.image import imread

    mosaic = folder / f"{DEMO_PRODUCT}_i2d.fits"
    catalog = folder / f"{DEMO_PRODUCT}_cat.ecsv"
    picture = folder / f"{DEMO_PRODUCT}_i2d.png"
    assert lines[-3:] == [
        f"steppe demo: calwebb_image3 made {mosaic}",
        f"steppe demo: its catalog {catalog} (41 sources)",
        f"steppe demo: quick-look {picture} (image, 41 sources circled; steppe show --open to view it)",
    ]
    rgb = imread(str(picture))[..., :3]
    lime = (rgb[..., 1] > 0.9) & (rgb[..., 0] < 0.2) & (rgb[..., 2] < 0.2)
    assert lime.sum() > 41 * 20  # a ring per source

