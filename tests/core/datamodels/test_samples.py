"""Every JWST sample file opens as the right model with the right arrays and metadata."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from pipeline_core.datamodels import (
    CubeModel,
    DarkModel,
    GainModel,
    ImageModel,
    LinearityModel,
    MaskModel,
    RampModel,
    ReadnoiseModel,
    SaturationModel,
    SuperBiasModel,
    open_model,
)

NY = NX = 64

# kind -> (class, {array: (dtype, shape)})
EXPECTED = {
    "uncal_level1b": (
        RampModel,
        {
            "data": ("float32", (1, 5, NY, NX)),
            "pixeldq": ("uint32", (NY, NX)),
            "groupdq": ("uint8", (1, 5, NY, NX)),
        },
    ),
    "uncal_rampmodel": (
        RampModel,
        {
            "data": ("float32", (1, 5, NY, NX)),
            "pixeldq": ("uint32", (NY, NX)),
            "groupdq": ("uint8", (1, 5, NY, NX)),
        },
    ),
    "rate": (
        ImageModel,
        {
            "data": ("float32", (NY, NX)),
            "dq": ("uint32", (NY, NX)),
            "err": ("float32", (NY, NX)),
            "var_poisson": ("float32", (NY, NX)),
            "var_rnoise": ("float32", (NY, NX)),
        },
    ),
    "rateints": (
        CubeModel,
        {
            "data": ("float32", (1, NY, NX)),
            "dq": ("uint32", (1, NY, NX)),
            "err": ("float32", (1, NY, NX)),
            "var_poisson": ("float32", (1, NY, NX)),
            "var_rnoise": ("float32", (1, NY, NX)),
        },
    ),
    "mask": (MaskModel, {"dq": ("uint32", (NY, NX))}),
    "saturation": (SaturationModel, {"data": ("float32", (NY, NX)), "dq": ("uint32", (NY, NX))}),
    "superbias": (
        SuperBiasModel,
        {"data": ("float32", (NY, NX)), "err": ("float32", (NY, NX)), "dq": ("uint32", (NY, NX))},
    ),
    "linearity": (
        LinearityModel,
        {"coeffs": ("float32", (6, NY, NX)), "dq": ("uint32", (NY, NX))},
    ),
    "dark": (DarkModel, {"data": ("float32", (5, NY, NX)), "dq": ("uint32", (NY, NX))}),
    "gain": (GainModel, {"data": ("float32", (NY, NX))}),
    "readnoise": (ReadnoiseModel, {"data": ("float32", (NY, NX))}),
}


def test_every_sample_kind_is_present(sample_files):
    assert set(sample_files) == set(EXPECTED)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_sample_opens_with_shapes_and_dtypes(sample_files, kind):
    cls, arrays = EXPECTED[kind]
    with open_model(sample_files[kind]) as model:
        assert type(model) is cls
        for name, (dtype, shape) in arrays.items():
            array = getattr(model, name)
            assert array.dtype == np.dtype(dtype), name
            assert array.shape == shape, name
            assert array.dtype.isnative and array.flags.writeable and array.flags.c_contiguous
        # common metadata of every sample: the detector and its subarray
        assert model.meta.instrument.name == "NIRCAM"
        assert model.meta.instrument.detector == "NRCA3"
        assert model.meta.subarray.name == "SUB64P"
        assert (model.meta.subarray.xstart, model.meta.subarray.ystart) == (1, 101)
        assert (model.meta.subarray.xsize, model.meta.subarray.ysize) == (64, 64)
        assert model.meta.filename == sample_files[kind].name


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_sample_values_match_astropy(sample_files, kind):
    _, arrays = EXPECTED[kind]
    model = open_model(sample_files[kind])
    with fits.open(sample_files[kind]) as hdul:
        names = {hdu.name for hdu in hdul}
        for name in arrays:
            spec = model._specs[name]
            if spec.extname in names:
                np.testing.assert_array_equal(getattr(model, name), hdul[spec.extname].data)
            else:  # level-1b ramps carry no DQ arrays: they read as zeros
                assert not getattr(model, name).any()


def test_level1b_uint16_becomes_float32_with_exact_values(sample_files):
    model = open_model(sample_files["uncal_level1b"])
    with fits.open(sample_files["uncal_level1b"]) as hdul:
        raw = hdul["SCI"].data
        assert raw.dtype == np.uint16
        np.testing.assert_array_equal(model.data, raw.astype(np.float32))


def test_ramp_exposure_metadata(sample_files):
    for kind in ("uncal_level1b", "uncal_rampmodel"):
        model = open_model(sample_files[kind])
        exp = model.meta.exposure
        assert (exp.readpatt, exp.nints, exp.ngroups, exp.nframes, exp.groupgap) == (
            "RAPID", 1, 5, 1, 0
        )
        assert exp.frame_time == pytest.approx(0.05016)
        assert exp.group_time == pytest.approx(0.05016)
        assert exp.type == "NRC_TSIMAGE"
        assert model.meta.observation.date == "2024-01-01"
        assert model.meta.observation.time == "00:00:00.000"
        assert model.meta.observation.program_number == "09999"
        assert model.meta.visit.tsovisit is True
        assert model.meta.model_type == "RampModel"
        assert model.int_times["integration_number"].tolist() == [1]


def test_rate_products_carry_steps_and_reference_files(sample_files):
    for kind in ("rate", "rateints"):
        model = open_model(sample_files[kind])
        assert model.meta.cal_step.jump == "COMPLETE"
        assert model.meta.cal_step.ramp_fit == "COMPLETE"
        assert model.meta.cal_step.ipc == "SKIPPED"
        assert model.meta.ref_file.gain.name == "jwst_nircam_gain_nrca3_sub64p_synth.fits"
        assert model.meta.ref_file.crds.context_used == "jwst_0000.pmap"
        assert model.meta.bunit_data == "DN/s"
        assert model.meta.exposure.primary_cosmic_rays == pytest.approx(13.384902686403509)


def test_reference_files_metadata_from_header_keywords(sample_files):
    dark = open_model(sample_files["dark"])
    assert dark.meta.reftype == "DARK"
    assert dark.meta.pedigree == "DUMMY"
    assert dark.meta.useafter == "2022-01-01T00:00:00"
    assert dark.meta.exposure.readpatt == "RAPID"
    assert (dark.meta.exposure.ngroups, dark.meta.exposure.nframes) == (5, 1)
    assert dark.meta.exposure.average_dark_current == pytest.approx(0.01948176696896553)
    assert dark.meta.model_type == "DarkModel"
    mask = open_model(sample_files["mask"])
    assert mask.dq_def["NAME"].tolist()[:2] == ["DO_NOT_USE", "SATURATED"]
    assert mask.dq_def["VALUE"].tolist()[-1] == 2**31
    assert open_model(sample_files["readnoise"]).meta.exposure.readpatt == "ANY"


def test_crds_parameters_of_a_sample(sample_files):
    params = open_model(sample_files["uncal_level1b"]).get_crds_parameters()
    assert params["META.INSTRUMENT.NAME"] == "NIRCAM"
    assert params["META.INSTRUMENT.DETECTOR"] == "NRCA3"
    assert params["META.EXPOSURE.READPATT"] == "RAPID"
    assert params["META.SUBARRAY.NAME"] == "SUB64P"
    assert params["META.EXPOSURE.TYPE"] == "NRC_TSIMAGE"
    assert params["META.OBSERVATION.DATE"] == "2024-01-01"
    assert all(key.startswith("META.") for key in params)
    assert all(isinstance(v, (str, int, float, bool)) for v in params.values())


def test_model_class_can_be_forced(sample_files):
    model = open_model(sample_files["uncal_rampmodel"], model_class=RampModel)
    assert isinstance(model, RampModel)
    model = RampModel(sample_files["uncal_rampmodel"])
    assert model.shape == (1, 5, 64, 64)
    assert model.source_path == str(sample_files["uncal_rampmodel"])
