"""Building models in memory: constructors, default arrays, dtypes, copies."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline_core.datamodels import (
    CubeModel,
    DarkModel,
    DataModel,
    ImageModel,
    LinearityModel,
    MaskModel,
    RampModel,
    open_model,
)
from pipeline_core.errors import DataModelError


def test_ramp_from_data_gets_default_arrays():
    model = RampModel(data=np.ones((2, 3, 4, 5), dtype=np.float64))
    assert model.data.dtype == np.float32
    assert model.shape == (2, 3, 4, 5)
    assert model.pixeldq.shape == (4, 5) and model.pixeldq.dtype == np.uint32
    assert model.groupdq.shape == (2, 3, 4, 5) and model.groupdq.dtype == np.uint8
    assert model.err.shape == (2, 3, 4, 5) and model.err.dtype == np.float32
    assert not model.pixeldq.any() and not model.groupdq.any()
    assert model.zeroframe is None and model.refout is None and model.int_times is None
    model.groupdq[0, 0, 0, 0] = 4  # the default array is kept, not rebuilt
    assert model.groupdq[0, 0, 0, 0] == 4


def test_float32_data_is_not_copied():
    data = np.zeros((1, 2, 3, 3), dtype=np.float32)
    model = RampModel(data=data)
    assert model.data is data


def test_image_from_shape():
    model = ImageModel((8, 9))
    assert model.data.shape == (8, 9) and not model.data.any()
    assert model.dq.dtype == np.uint32 and model.err.dtype == np.float32
    assert model.var_poisson is None and model.var_flat is None
    cube = CubeModel((2, 8, 9))
    assert cube.dq.shape == (2, 8, 9)


def test_empty_model_has_no_arrays():
    model = RampModel()
    assert model.data is None and model.groupdq is None and model.shape is None
    assert repr(model) == "<RampModel>"


def test_wrong_dimensionality_is_refused():
    with pytest.raises(DataModelError, match=r"RampModel.data \(SCI\) must be 4-D; got a 2-D"):
        RampModel(data=np.zeros((3, 3)))
    with pytest.raises(DataModelError, match="must be 2-D"):
        ImageModel((2, 3, 4))
    model = ImageModel((4, 4))
    with pytest.raises(DataModelError, match=r"ImageModel.dq \(DQ\) must be 2-D"):
        model.dq = np.zeros((1, 4, 4))


def test_unknown_array_and_bad_init_are_refused():
    with pytest.raises(DataModelError, match="RampModel has no array 'dq'. Its arrays are: data,"):
        RampModel(dq=np.zeros((2, 2)))
    with pytest.raises(DataModelError, match="Cannot build a ImageModel from a int"):
        ImageModel(5)
    with pytest.raises(DataModelError, match="Invalid shape"):
        ImageModel((4, -1))


def test_inconsistent_shapes_are_reported_by_validate():
    model = RampModel(data=np.zeros((1, 2, 4, 4)))
    model.pixeldq = np.zeros((5, 5))
    expected = r"PIXELDQ has shape \(5, 5\).*must have shape \(4, 4\)"
    with pytest.raises(DataModelError, match=expected):
        model.validate()


def test_setting_none_removes_an_array():
    model = ImageModel((3, 3))
    model.var_poisson = np.ones((3, 3))
    model.var_poisson = None
    assert model.var_poisson is None
    del model.err
    assert model.err.shape == (3, 3)  # required: comes back as zeros


def test_copy_is_deep():
    model = RampModel(data=np.ones((1, 2, 3, 3)))
    model.meta.instrument.name = "NIRCAM"
    dup = model.copy()
    dup.data[...] = 5
    dup.meta.instrument.name = "MIRI"
    assert model.data.max() == 1
    assert model.meta.instrument.name == "NIRCAM"
    assert type(dup) is RampModel


def test_context_manager_and_close():
    with ImageModel((2, 2)) as model:
        assert model.data.shape == (2, 2)
    model.close()
    assert model.data.shape == (2, 2)


def test_open_model_passes_models_through():
    model = ImageModel((2, 2))
    assert open_model(model) is model
    with pytest.raises(DataModelError, match="Got a ImageModel where a RampModel is needed"):
        open_model(model, model_class=RampModel)
    with pytest.raises(DataModelError, match=r"Cannot open 42 \(int\)"):
        open_model(42)


def test_model_from_another_model_copies_meta_and_shares_arrays():
    ramp = RampModel(data=np.ones((1, 2, 3, 3)))
    ramp.meta.exposure.ngroups = 2
    image = ImageModel(ramp.data[0, 0])
    image.update(ramp)
    assert image.meta.exposure.ngroups == 2
    assert image.meta.model_type == "ImageModel"
    cube = CubeModel(CubeModel((1, 3, 3)))
    assert cube.data.shape == (1, 3, 3)
    from_ramp = CubeModel(ramp)  # meta carried over, the 4-D arrays do not fit a cube
    assert from_ramp.meta.exposure.ngroups == 2
    assert from_ramp.meta.model_type == "CubeModel"
    assert from_ramp.data is None
    same = RampModel(ramp)
    assert same.data is ramp.data


def test_update_only_one_group():
    src = RampModel()
    src.meta.exposure.ngroups = 4
    src.meta.instrument.name = "NIRCAM"
    dst = ImageModel()
    dst.update(src, only="exposure")
    assert dst.meta.exposure.ngroups == 4
    assert dst.meta.instrument.name is None


def test_reference_models():
    mask = MaskModel((4, 4))
    assert mask.dq.dtype == np.uint32 and mask.shape == (4, 4)
    assert mask.meta.reftype == "MASK"
    lin = LinearityModel(coeffs=np.zeros((3, 4, 4)))
    assert lin.dq.shape == (4, 4)
    dark = DarkModel(data=np.zeros((2, 5, 4, 4)))
    assert dark.dq.shape == (4, 4) and dark.err is None


def test_every_model_documents_its_arrays():
    for cls in DataModel.__subclasses__():
        for spec in cls.arrays:
            assert getattr(cls, spec.name).__doc__.startswith("numpy.ndarray or None")


def test_a_plugin_model_opens_by_its_declared_name(tmp_path):
    from pipeline_core.datamodels import ArraySpec

    class TraceModel(DataModel):
        """A model a plugin might define."""

        arrays = (
            ArraySpec("data", "SCI", "float32", (1,), required=True, like="data"),
            ArraySpec("wavelength", "WAVELENGTH", "float64", (1,), like="data"),
        )
        primary = "data"

    model = TraceModel(data=np.arange(4), wavelength=np.linspace(1, 2, 4))
    back = open_model(model.save(tmp_path / "trace.fits"))
    assert type(back) is TraceModel
    np.testing.assert_array_equal(back.wavelength, np.linspace(1, 2, 4))
