"""steppe's Detector1 followed by jwst's stage-2 steps, and jwst pipelines in batches."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest

pytest.importorskip("jwst")

from pipeline_core import registry  # noqa: E402
from pipeline_core.config.parfile import StepConfig, write_parameter_file  # noqa: E402
from tests.bridge._offline import offline_overrides  # noqa: E402
from tests.e2e._samples import OUTPUTS, STEM, UNCAL  # noqa: E402

pytestmark = [
    pytest.mark.skipif(not OUTPUTS.exists(), reason="JWST sample files not available"),
    pytest.mark.usefixtures("offline"),
]

FLAT_VALUE = 1.25
NOT_NIRSPEC_FLATS = {"override_fflat": "N/A", "override_sflat": "N/A", "override_dflat": "N/A"}


@pytest.fixture(scope="module")
def flat_file(tmp_path_factory):
    """A NIRCam SUB64P FLAT reference (written by stdatamodels) of a constant value."""
    from stdatamodels.jwst.datamodels import FlatModel

    rate = OUTPUTS / f"{STEM}_rate.fits"
    from astropy.io import fits

    header = fits.getheader(rate, 0)
    flat = FlatModel(data=np.full((64, 64), FLAT_VALUE, np.float32))
    flat.dq = np.zeros((64, 64), np.uint32)
    flat.dq[10, 20] = 1  # DO_NOT_USE: becomes NaN in the science data
    flat.err = np.zeros((64, 64), np.float32)
    flat.meta.reftype = "FLAT"
    flat.meta.description = "constant test flat"
    flat.meta.author = "steppe tests"
    flat.meta.pedigree = "DUMMY"
    flat.meta.useafter = "2020-01-01T00:00:00"
    flat.meta.instrument.name = "NIRCAM"
    flat.meta.instrument.detector = header["DETECTOR"]
    flat.meta.instrument.filter = header["FILTER"]
    flat.meta.instrument.pupil = header["PUPIL"]
    flat.meta.subarray.name = header["SUBARRAY"]
    flat.meta.subarray.xstart = header["SUBSTRT1"]
    flat.meta.subarray.ystart = header["SUBSTRT2"]
    flat.meta.subarray.xsize = 64
    flat.meta.subarray.ysize = 64
    path = tmp_path_factory.mktemp("flat") / "jwst_nircam_flat_test.fits"
    flat.save(path)
    return str(path)


def test_steppe_detector1_then_jwst_flat_field_from_an_asdf_step_list(flat_file, tmp_path):
    step_list = tmp_path / "mixed.asdf"
    write_parameter_file(
        step_list,
        StepConfig(
            "pipeline_core.Pipeline", "mixed", {},
            steps=[
                StepConfig("calwebb_detector1", "detector1", {}),
                StepConfig("jwst::jwst.flatfield.flat_field_step.FlatFieldStep", "flat_field",
                           {"override_flat": flat_file, **NOT_NIRSPEC_FLATS}),
            ],
        ),
    )
    pipeline = registry().resolve("pipeline_core.Pipeline")
    result = pipeline.call(
        str(UNCAL["rampmodel"]), config_file=step_list,
        steps={"detector1": {"steps": offline_overrides()}},
        save_results=True, output_dir=str(tmp_path),
    )
    steps = pipeline.from_config_file(step_list).substeps
    assert steps["detector1"].__module__.startswith("builtin_steps")
    assert steps["flat_field"].stpipe_class.__name__ == "FlatFieldStep"

    from pipeline_core.datamodels import open_model

    rate = open_model(str(OUTPUTS / f"{STEM}_rate.fits"))  # steppe's agrees with it (tests/e2e)
    assert type(result).__name__ == "ImageModel"
    assert result.meta.cal_step.flat_field == "COMPLETE"
    assert result.meta.cal_step.jump == "COMPLETE"  # steppe's record carried through jwst
    assert result.meta.ref_file.flat.name.endswith("jwst_nircam_flat_test.fits")
    good = np.isfinite(rate.data) & np.isfinite(result.data)
    good[10, 20] = False
    np.testing.assert_allclose(result.data[good], rate.data[good] / FLAT_VALUE, atol=1e-4, rtol=1e-5)
    assert np.isnan(result.data[10, 20]) and result.dq[10, 20] & 1
    saved = list(tmp_path.glob(f"{STEM}_*.fits"))
    assert [p.name for p in saved] == [f"{STEM}_flat_field.fits"]


def test_a_missing_override_of_a_jwst_step_names_step_and_file(flat_file, tmp_path):
    from pipeline_core.errors import ReferenceFileError

    rate = registry().resolve("jwst::flat_field")
    with pytest.raises(ReferenceFileError, match=r"step 'flat_field'.*override_flat.*nothere\.fits"):
        rate.call(str(OUTPUTS / f"{STEM}_rate.fits"), override_flat=str(tmp_path / "nothere.fits"),
                  **NOT_NIRSPEC_FLATS)


@pytest.fixture(scope="module")
def threaded_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster


# jwst silences its numpy warnings (all-NaN medians of the synthetic ramp) with
# warnings.catch_warnings, which is not thread-safe: on a threaded dask worker another
# thread can restore the filters in between, and this suite turns warnings into errors.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_steppe_batch_runs_a_jwst_pipeline_on_dask(threaded_cluster, tmp_path):
    from astropy.io import fits

    from pipeline_core.cli.main import run_cli

    source = tmp_path / "in" / f"{STEM}_uncal.fits"
    source.parent.mkdir()
    shutil.copy(UNCAL["rampmodel"], source)
    overrides = [
        f"--steps.{step}.{name}={value}"
        for step, pars in offline_overrides(jwst=True).items() for name, value in pars.items()
    ]
    out, err = io.StringIO(), io.StringIO()
    argv = ["batch", "jwst::calwebb_detector1", str(source), "--executor", "dask",
            "--scheduler", threaded_cluster.scheduler_address, "--output-dir", str(tmp_path / "out")]
    assert run_cli(argv + overrides, stdout=out, stderr=err) == 0, err.getvalue() + out.getvalue()
    for suffix in ("rate", "rateints"):
        with fits.open(tmp_path / "out" / f"{STEM}_{suffix}.fits") as ours, \
                fits.open(OUTPUTS / f"{STEM}_{suffix}.fits") as jwst:
            np.testing.assert_array_equal(ours["DQ"].data, jwst["DQ"].data)
            np.testing.assert_allclose(ours["SCI"].data, jwst["SCI"].data, atol=1e-6, equal_nan=True)
