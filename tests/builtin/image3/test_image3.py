"""Image3: parameters as jwst 3.0 writes them, alignment, outliers, the stage on an association."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from builtin_steps.library import ModelLibrary, load_level3
from pipeline_core.errors import StepError
from tests.builtin.image3._scenes import PRODUCT, inject_wcs_error

PARFILES = Path(__file__).resolve().parents[2] / "data" / "jwst_parameter_files" / "image3"
STEPS = {
    "tweakreg": "builtin_steps.tweakreg.step.TweakRegStep",
    "skymatch": "builtin_steps.skymatch.step.SkyMatchStep",
    "outlier_detection": "builtin_steps.outlier_detection.step.OutlierDetectionStep",
    "source_catalog": "builtin_steps.source_catalog.step.SourceCatalogStep",
    "assign_mtwcs": "builtin_steps.assign_mtwcs.step.AssignMTWcsStep",
}


@pytest.mark.parametrize("alias", sorted(STEPS))
def test_jwst_parameter_files_load_unchanged(alias):
    import asdf

    from pipeline_core import registry

    cls = registry().resolve(alias)
    with asdf.open(PARFILES / f"{alias}.asdf") as af:
        expected = dict(af.tree["parameters"])
    step = cls.from_config_file(str(PARFILES / f"{alias}.asdf")) if hasattr(cls, "from_config_file") else cls()
    for name, value in expected.items():
        if name in ("pre_hooks", "post_hooks", "input_dir", "output_ext", "search_output_file"):
            continue
        ours = getattr(step, name)
        if name == "connectivity":
            ours, value = int(ours), int(value)
        assert ours == value, (alias, name)
    assert registry().resolve(f"jwst.{'x'}" if False else cls.legacy_class_paths[0]) is cls


def test_tweakreg_removes_injected_wcs_errors(cals):
    from builtin_steps.tweakreg.step import TweakRegStep

    models, truth = copy.deepcopy(cals[0]), cals[1]
    inject_wcs_error(models[1], (0.15, -0.1), 0.02)
    inject_wcs_error(models[2], (-0.12, 0.2), -0.01)
    ra0, dec0 = truth["sky"]
    library = TweakRegStep.call(ModelLibrary(models), separation=0.3, minobj=8)
    for index, model in enumerate(library):
        ra, dec = model.meta.wcs(*truth["positions"][index])
        miss = np.hypot((ra - ra0) * np.cos(np.deg2rad(dec0)), dec - dec0) * 3.6e6
        assert np.sqrt(np.mean(miss**2)) < 5.0, index
        assert model.meta.cal_step.tweakreg == "COMPLETE"


def test_outlier_detection_flags_cosmic_rays(cals):
    from builtin_steps.outlier_detection.step import OutlierDetectionStep

    models, truth = copy.deepcopy(cals[0]), cals[1]
    library = OutlierDetectionStep.call(ModelLibrary(models))
    found = total = false = good = 0
    for index, model in enumerate(library):
        flagged = (np.asarray(model.dq) & 16) != 0
        hits = np.zeros_like(flagged)
        for y, x in truth["cosmic_rays"][index]:
            hits[y, x] = True
        found += int((flagged & hits).sum())
        total += int(hits.sum())
        false += int((flagged & ~hits).sum())
        good += int((~hits).sum())
    assert found / total > 0.95
    assert false / good < 0.001


def test_stage_on_association_writes_products(stage):
    from astropy.table import Table

    out, mosaic = stage
    names = sorted(p.name for p in out.iterdir())
    assert f"{PRODUCT}_i2d.fits" in names and f"{PRODUCT}_cat.ecsv" in names and f"{PRODUCT}_segm.fits" in names
    assert sum(n.endswith("_crf.fits") for n in names) == 3
    assert mosaic.data.shape[0] > 160
    assert mosaic.meta.cal_step.resample == "COMPLETE"
    assert len(Table.read(out / f"{PRODUCT}_cat.ecsv")) >= 35


def test_bad_association_is_refused(tmp_path):
    path = tmp_path / "x_asn.json"
    path.write_text(json.dumps({"asn_type": "image2", "products": [{"name": "p", "members": []}]}))
    with pytest.raises(StepError, match="not one of"):
        load_level3(str(path))
