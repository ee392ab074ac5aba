"""calwebb_image2: associations, products, the command line, JWST names and parameter files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from builtin_steps.pipelines import Image2Pipeline
from pipeline_core import registry
from pipeline_core.datamodels import ImageModel, open_model
from pipeline_core.errors import StepError
from tests.builtin.image2._rates import make_rate

PARFILES = Path(__file__).resolve().parents[2] / "data" / "jwst_parameter_files" / "image2"

LEGACY = {
    "jwst.pipeline.calwebb_image2.Image2Pipeline": "calwebb_image2",
    "jwst.background.background_step.BackgroundStep": "bkg_subtract",
    "jwst.assign_wcs.assign_wcs_step.AssignWcsStep": "assign_wcs",
    "jwst.flatfield.flat_field_step.FlatFieldStep": "flat_field",
    "jwst.photom.photom_step.PhotomStep": "photom",
    "jwst.resample.resample_step.ResampleStep": "resample",
}


@pytest.mark.parametrize(("legacy", "alias"), sorted(LEGACY.items()))
def test_jwst_class_paths_resolve(legacy, alias):
    assert registry().resolve(legacy) is registry().resolve(alias)


def test_association_with_backgrounds(crds_env, tmp_path):
    make_rate("nircam", value=10.0).save(tmp_path / "jw01_sci_rate.fits")
    for i in range(3):
        make_rate("nircam", value=4.0, seed=5 + i).save(tmp_path / f"jw01_bkg{i}_rate.fits")
    asn = {
        "asn_type": "image2", "asn_rule": "candidate_Asn_Lv2Image", "asn_pool": "jw01_pool.csv",
        "products": [{"name": "jw01_product", "members": [
            {"expname": "jw01_sci_rate.fits", "exptype": "science"},
            *({"expname": f"jw01_bkg{i}_rate.fits", "exptype": "background"} for i in range(3)),
        ]}],
    }
    path = tmp_path / "jw01_image2_asn.json"
    path.write_text(json.dumps(asn))
    out = tmp_path / "out"
    out.mkdir()
    results = Image2Pipeline.call(str(path), save_results=True, output_dir=str(out))
    assert [type(r) for r in results] == [ImageModel]
    assert sorted(p.name for p in out.iterdir()) == ["jw01_product_cal.fits", "jw01_product_i2d.fits"]
    cal = open_model(out / "jw01_product_cal.fits")
    assert (cal.meta.asn.pool_name, cal.meta.asn.table_name) == ("jw01_pool.csv", "jw01_image2_asn.json")
    steps = cal.meta.cal_step
    assert (steps.bkg_subtract, steps.assign_wcs, steps.flat_field, steps.photom) == ("COMPLETE",) * 4
    assert cal.meta.bunit_data == "MJy/sr" and np.nanmedian(cal.data) == pytest.approx(6.0 * 0.2, rel=0.03)
    i2d = open_model(out / "jw01_product_i2d.fits")
    assert i2d.meta.cal_step.resample == "COMPLETE" and i2d.con is not None and i2d.wht is not None


@pytest.mark.parametrize("kind", ["niriss", "miri"])
def test_single_exposure_of_other_instruments(crds_env, tmp_path, kind):
    rate = make_rate(kind)
    path = rate.save(tmp_path / f"jw02_{kind}_rate.fits")
    (result,) = Image2Pipeline.call(path)
    assert result.meta.cal_step.photom == "COMPLETE" and callable(result.meta.wcs)
    assert not list(tmp_path.glob("*_cal.fits"))  # nothing saved unless asked


def test_command_line_run_writes_cal_and_i2d(crds_env, tmp_path):
    from pipeline_core.cli.main import run_cli

    path = make_rate("nircam160").save(tmp_path / "jw03_nrca1_rate.fits")
    status = run_cli(["run", "jwst.pipeline.calwebb_image2.Image2Pipeline", path, "--output-dir", str(tmp_path),
                      "--steps.resample.pixfrac=0.8"])
    assert status == 0
    assert (tmp_path / "jw03_nrca1_cal.fits").exists() and (tmp_path / "jw03_nrca1_i2d.fits").exists()
    assert open_model(tmp_path / "jw03_nrca1_i2d.fits").meta.resample.pixfrac == pytest.approx(0.8)


def test_failure_writes_nothing(crds_env, tmp_path):
    path = make_rate("nircam", pointing=False).save(tmp_path / "jw04_nrca1_rate.fits")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StepError, match="has no telescope pointing"):
        Image2Pipeline.call(path, save_results=True, output_dir=str(out))
    assert list(out.iterdir()) == []
    assert open_model(path).meta.cal_step.assign_wcs is None  # the input is untouched


def test_bad_association_is_a_clear_error(crds_env, tmp_path):
    path = tmp_path / "bad_asn.json"
    path.write_text(json.dumps({"asn_type": "image2", "products": [{"name": "p", "members": [
        {"expname": "missing_rate.fits", "exptype": "science"}]}]}))
    with pytest.raises(StepError, match="member 'missing_rate.fits' \\(science\\) does not exist"):
        Image2Pipeline.call(str(path))
    path.write_text(json.dumps({"asn_type": "image3", "products": []}))
    with pytest.raises(StepError, match="association file .* has no 'products' list"):
        Image2Pipeline.call(str(path))


@pytest.mark.parametrize("parfile", sorted(p.name for p in PARFILES.glob("*.asdf")))
def test_jwst_parameter_files_load_unchanged(parfile):
    import asdf

    from pipeline_core import Step

    step = Step.from_config_file(PARFILES / parfile)
    with asdf.open(PARFILES / parfile) as af:
        tree = af.tree
        expected = [(tree["name"], tree["parameters"])]
        expected += [(s["name"], s["parameters"]) for s in tree.get("steps", [])]
    substeps = getattr(step, "substeps", {})
    for name, parameters in expected:
        target = substeps.get(name, step)
        for key, value in parameters.items():
            got = getattr(target, key)
            assert got == value or (isinstance(value, list) and list(got) == value), (parfile, name, key)


def test_steppe_config_matches_jwst_parameters():
    import asdf

    def own(parameters):  # input_dir is filled in when JWST runs; the rest are defaults
        return {k: v for k, v in parameters.items() if k != "input_dir"}

    pipe = Image2Pipeline()
    with asdf.open(PARFILES / "calwebb_image2.asdf") as af:
        tree = af.tree
        assert {k: pipe.get_pars()[k] for k in own(tree["parameters"])} == own(tree["parameters"])
        for entry in tree["steps"]:
            mine = pipe.substeps[entry["name"]].get_pars()
            assert {k: mine[k] for k in own(entry["parameters"])} == own(entry["parameters"])
            assert type(pipe.substeps[entry["name"]]).legacy_class_paths == (entry["class"],)


def test_rateints_cube_gives_calints_and_no_i2d(crds_env, tmp_path):
    from pipeline_core.datamodels import CubeModel

    rate = make_rate("nircam")
    cube = CubeModel(data=np.stack([rate.data, rate.data + 1]))
    cube.update(rate)
    cube.var_rnoise = np.stack([rate.var_rnoise] * 2)
    cube.var_poisson = np.stack([rate.var_poisson] * 2)
    path = cube.save(tmp_path / "jw06_nrca1_rateints.fits")
    (result,) = Image2Pipeline.call(path, save_results=True, output_dir=str(tmp_path))
    assert isinstance(result, CubeModel) and result.meta.cal_step.photom == "COMPLETE"
    assert sorted(p.name for p in tmp_path.glob("jw06_*")) == ["jw06_nrca1_calints.fits", "jw06_nrca1_rateints.fits"]
    # 1 DN/s more in the second integration is 0.2 MJy/sr (the F200W conversion) over the flat
    assert np.nanmedian(result.data[1] - result.data[0]) == pytest.approx(0.2, rel=0.05)
