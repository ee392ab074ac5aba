"""The metadata tree: attribute access, lazy groups, flattening, the keyword table."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline_core.datamodels import ImageModel, MetaNode, RampModel
from pipeline_core.datamodels.keywords import KEYWORDS, keywords, keywords_by_path
from pipeline_core.datamodels.meta import is_group_path


def test_unset_leaf_reads_none_and_reading_adds_nothing():
    model = RampModel()
    assert model.meta.instrument.name is None
    assert model.meta.exposure.ngroups is None
    assert model.meta.cal_step.jump is None
    assert model.meta.ref_file.gain.name is None
    assert model.meta.anything_unknown is None
    assert model.meta.to_flat_dict() == {"meta.model_type": "RampModel"}


def test_assigning_a_deep_path_creates_the_groups():
    model = ImageModel()
    model.meta.ref_file.gain.name = "gain.fits"
    model.meta.ref_file.crds.context_used = "jwst_1234.pmap"
    model.meta.cal_step.jump = "COMPLETE"
    assert model.meta.ref_file.gain.name == "gain.fits"
    assert model.meta.to_flat_dict() == {
        "meta.model_type": "ImageModel",
        "meta.ref_file.gain.name": "gain.fits",
        "meta.ref_file.crds.context_used": "jwst_1234.pmap",
        "meta.cal_step.jump": "COMPLETE",
    }


def test_a_node_kept_across_assignments_stays_linked():
    meta = MetaNode()
    exposure = meta.exposure
    assert not exposure  # empty, falsy, not yet in the tree
    exposure.nints = 2
    exposure.ngroups = 7
    assert meta.to_dict() == {"exposure": {"nints": 2, "ngroups": 7}}
    assert meta.exposure.to_flat_dict() == {"meta.exposure.nints": 2, "meta.exposure.ngroups": 7}


def test_values_are_stored_as_plain_python():
    meta = MetaNode()
    meta.exposure.nints = np.int64(3)
    meta.exposure.frame_time = np.float32(0.5)
    meta.extra = {"a": (1, 2), "b": None}
    assert type(meta.exposure.nints) is int
    assert type(meta.exposure.frame_time) is float
    assert meta.extra.to_dict() == {"a": [1, 2]}


def test_none_deletes_and_dotted_item_access():
    meta = MetaNode()
    meta["instrument.detector"] = "NRCA1"
    assert meta["meta.instrument.detector"] == "NRCA1"
    assert "instrument.detector" in meta
    meta.instrument.detector = None
    assert meta.instrument.detector is None
    assert "instrument.detector" not in meta
    meta["wholly.new.path"] = 5
    assert meta.wholly.new.path == 5
    assert meta["no.such.path"] is None


def test_private_names_are_refused():
    meta = MetaNode()
    with pytest.raises(AttributeError, match="cannot start with '_'"):
        meta._secret = 1


def test_meta_can_be_replaced_by_a_dict_or_node():
    model = RampModel()
    model.meta = {"instrument": {"name": "MIRI"}}
    assert model.meta.instrument.name == "MIRI"
    other = ImageModel()
    other.meta = model.meta
    other.meta.instrument.name = "NIRSPEC"
    assert model.meta.instrument.name == "MIRI"  # copied, not shared


def test_crds_parameters_only_scalar_meta_values():
    model = RampModel()
    model.meta.instrument.name = "NIRCAM"
    model.meta.exposure.nints = 2
    model.meta.exposure.zero_frame = False
    model.meta.some_list = [1, 2]
    params = model.get_crds_parameters()
    assert params == {
        "META.MODEL_TYPE": "RampModel",
        "META.INSTRUMENT.NAME": "NIRCAM",
        "META.EXPOSURE.NINTS": 2,
        "META.EXPOSURE.ZERO_FRAME": False,
    }


def test_group_paths():
    assert is_group_path(("instrument",))
    assert is_group_path(("ref_file", "gain"))
    assert is_group_path(("ref_file", "some_new_reftype"))
    assert is_group_path(("cal_step",))
    assert not is_group_path(("cal_step", "jump"))
    assert not is_group_path(("instrument", "name"))


def test_keyword_table_is_consistent():
    names_by_hdu = {}
    for kw in keywords():
        assert kw.type in "sifb"
        assert kw.name == kw.name.upper() and len(kw.name) <= 8
        names_by_hdu.setdefault(kw.hdu, []).append(kw.name)
    for hdu, names in names_by_hdu.items():
        assert len(names) == len(set(names)), hdu
    assert len(keywords_by_path()) == len(KEYWORDS)
    table = {kw.name: ".".join(kw.path) for kw in keywords() if kw.hdu == "PRIMARY"}
    assert table["INSTRUME"] == "instrument.name"
    assert table["NGROUPS"] == "exposure.ngroups"
    assert table["SUBSTRT1"] == "subarray.xstart"
    assert table["SUBSTRT2"] == "subarray.ystart"
    assert table["DATE-OBS"] == "observation.date"
    assert table["TIME-OBS"] == "observation.time"
    assert table["S_JUMP"] == "cal_step.jump"
    assert table["S_DARK"] == "cal_step.dark_sub"
    assert table["R_READNO"] == "ref_file.readnoise.name"
    assert table["CRDS_CTX"] == "ref_file.crds.context_used"
    assert table["DATAMODL"] == "model_type"
    assert table["REFTYPE"] == "reftype"


def test_nodes_and_models_pickle_and_copy():
    import copy
    import pickle

    model = RampModel(data=np.ones((1, 2, 3, 3)))
    model.meta.instrument.name = "NIRCAM"
    back = pickle.loads(pickle.dumps(model))
    assert back.meta.instrument.name == "NIRCAM"
    np.testing.assert_array_equal(back.data, model.data)
    node = pickle.loads(pickle.dumps(model.meta.instrument))
    assert node == {"name": "NIRCAM"}
    assert repr(node) == "<MetaNode meta.instrument {'name': 'NIRCAM'}>"
    shallow = copy.copy(model.meta.instrument)
    shallow.name = "MIRI"  # a shallow copy is a view on the same group
    assert model.meta.instrument.name == "MIRI"
    deep = copy.deepcopy(model.meta)
    deep.instrument.name = "NIRSPEC"
    assert model.meta.instrument.name == "MIRI"
