"""Reference file lookup: overrides, plugins and the real crds client on the embedded set."""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline_core import hookimpl
from pipeline_core.references import crds_client
from pipeline_core.datamodels import GainModel, ImageModel, ReadnoiseModel
from pipeline_core.errors import ReferenceFileError
from pipeline_core.references.lookup import check_reference_shape, get_reference_file
from pipeline_core.steps.step import Step

REFS = Path("references") / "jwst"


class GainStep(Step):
    """Needs a gain and a read noise file."""

    class_alias = "gain_user"
    reference_file_types = ("gain", "readnoise", "ipc")

    def process(self, model):
        """Return the input."""
        return model


def _model(
    *,
    instrument="NIRCAM",
    detector="NRCA1",
    subarray="SUB160",
    date="2024-09-15",
    time="12:00:00",
    readpatt="RAPID",
    shape=(160, 160),
    start=(1889, 1),
):
    model = ImageModel(shape)
    model.meta.instrument.name = instrument
    model.meta.instrument.detector = detector
    model.meta.subarray.name = subarray
    model.meta.subarray.xstart, model.meta.subarray.ystart = start
    model.meta.subarray.xsize, model.meta.subarray.ysize = shape[1], shape[0]
    model.meta.observation.date = date
    model.meta.observation.time = time
    model.meta.exposure.readpatt = readpatt
    model.meta.exposure.type = "NRC_IMAGE"
    return model


def _described(model) -> str:
    p = model.get_crds_parameters()
    keys = [
        "META.INSTRUMENT.NAME", "META.INSTRUMENT.DETECTOR", "META.SUBARRAY.NAME",
        "META.EXPOSURE.READPATT", "META.EXPOSURE.TYPE", "META.OBSERVATION.DATE", "META.OBSERVATION.TIME",
    ]  # fmt: skip
    return "{" + ", ".join(f"{k}={p[k]!r}" for k in keys) + "}"


# --------------------------------------------------------------------------- selection
@pytest.mark.parametrize(
    ("detector", "subarray", "date", "expected"),
    [
        ("NRCA1", "SUB160", "2024-09-15", "jwst_nircam_gain_0005.fits"),  # after the update
        ("NRCA1", "SUB160", "2023-03-01", "jwst_nircam_gain_0004.fits"),  # before it
        ("NRCA1", "SUB64P", "2023-03-01", "jwst_nircam_gain_0002.fits"),
        ("NRCA1", "FULL", "2024-09-15", "jwst_nircam_gain_0001.fits"),  # no update for FULL
        ("NRCB1", "SUB64P", "2024-09-15", "jwst_nircam_gain_0008.fits"),
    ],
)
def test_crds_selects_by_detector_subarray_and_date(crds_env, detector, subarray, date, expected):
    model = _model(detector=detector, subarray=subarray, date=date)
    path = get_reference_file(GainStep(), model, "gain")
    assert path == str(Path(crds_env) / REFS / expected)
    assert model.meta.ref_file.gain.name == f"crds://{expected}"
    assert model.meta.ref_file.crds.context_used == "jwst_0001.pmap"


def test_observation_on_the_useafter_instant_selects_the_update(crds_env):
    model = _model(date="2024-06-01", time="00:00:00")
    assert get_reference_file(GainStep(), model, "gain").endswith("jwst_nircam_gain_0005.fits")


def test_selection_is_logged_with_the_context(crds_env, caplog):
    step = GainStep()
    with caplog.at_level(logging.INFO, logger=step.log.name):
        path = get_reference_file(step, _model(), "readnoise")
    assert f"READNOISE reference file: {path} (CRDS context jwst_0001.pmap, cache {crds_env})" in caplog.text


def test_niriss_files_come_from_their_own_rules(crds_env):
    model = _model(instrument="NIRISS", detector="NIS", subarray="SUB80", readpatt="NISRAPID")
    assert os.path.basename(get_reference_file(GainStep(), model, "mask")) == "jwst_niriss_mask_0001.fits"


def test_not_applicable_type_returns_na_and_records_it(crds_env, caplog):
    model = _model()
    step = GainStep()
    with caplog.at_level(logging.INFO, logger=step.log.name):
        assert get_reference_file(step, model, "IPC") == "N/A"
    assert model.meta.ref_file.ipc.name == "N/A"
    assert "IPC reference file: N/A for these data (CRDS context jwst_0001.pmap)" in caplog.text


def test_crds_context_setting_is_used(crds_env, monkeypatch):
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_0001.pmap")
    model = _model()
    get_reference_file(GainStep(), model, "gain")
    assert model.meta.ref_file.crds.context_used == "jwst_0001.pmap"


# --------------------------------------------------------------------------- overrides
def test_override_path_wins_and_is_recorded(crds_env):
    chosen = str(Path(crds_env) / REFS / "jwst_nircam_gain_0002.fits")
    model = _model()
    assert get_reference_file(GainStep(override_gain=chosen), model, "gain") == chosen
    assert model.meta.ref_file.gain.name == chosen


def test_override_na_skips(crds_env):
    model = _model()
    assert get_reference_file(GainStep(override_gain="n/a"), model, "gain") == "N/A"
    assert model.meta.ref_file.gain.name == "N/A"


def test_override_model_is_returned_as_is():
    ref = GainModel(data=np.full((4, 4), 2.0, np.float32))
    model = _model(shape=(4, 4))
    assert get_reference_file(GainStep(override_gain=ref), model, "gain") is ref


def test_missing_override_file_is_an_error(tmp_path):
    missing = str(tmp_path / "nope.fits")
    with pytest.raises(ReferenceFileError) as info:
        get_reference_file(GainStep(override_gain=missing), _model(), "gain")
    assert str(info.value) == (
        f"step 'gain_user': override_gain names the GAIN reference file '{missing}', which does "
        "not exist. Give the path of an existing file, or unset it to let CRDS choose."
    )


def test_unreadable_override_file_is_an_error(tmp_path):
    bad = tmp_path / "gain.fits"
    bad.write_text("this is not FITS")
    with pytest.raises(
        ReferenceFileError,
        match=re.escape(f"names the GAIN reference file '{bad}', which cannot be read as FITS or ASDF"),
    ):
        get_reference_file(GainStep(override_gain=str(bad)), _model(), "gain")


def test_override_of_the_wrong_type_is_an_error(crds_env):
    readnoise = str(Path(crds_env) / REFS / "jwst_nircam_readnoise_0004.fits")
    with pytest.raises(ReferenceFileError) as info:
        get_reference_file(GainStep(override_gain=readnoise), _model(), "gain")
    assert str(info.value) == (
        f"step 'gain_user': override_gain names '{readnoise}', a READNOISE reference file "
        "(REFTYPE='READNOISE'), but a GAIN file is needed here. Give a GAIN reference file."
    )


def test_override_model_of_the_wrong_type_is_an_error():
    ref = ReadnoiseModel(data=np.ones((4, 4), np.float32))
    ref.meta.reftype = "READNOISE"
    with pytest.raises(
        ReferenceFileError,
        match=re.escape("override_gain is a READNOISE reference model"),
    ):
        get_reference_file(GainStep(override_gain=ref), _model(shape=(4, 4)), "gain")


# ------------------------------------------------------------------------------ plugins
class _Supplier:
    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    @hookimpl
    def get_reference_file(self, step, model, reftype):
        self.calls.append(reftype)
        return self.answer if reftype == "gain" else None


def test_plugin_answer_comes_before_crds(crds_env):
    from pipeline_core.plugins.manager import registry

    chosen = str(Path(crds_env) / REFS / "jwst_nircam_gain_0003.fits")
    supplier = _Supplier(chosen)
    registry().register_plugin(supplier, distribution="supplier")
    model = _model()
    assert get_reference_file(GainStep(), model, "gain") == chosen
    assert model.meta.ref_file.gain.name == chosen
    assert get_reference_file(GainStep(), model, "readnoise").endswith("readnoise_0005.fits")  # plugin passes
    assert supplier.calls == ["gain", "readnoise"]


def test_override_comes_before_the_plugin(crds_env):
    from pipeline_core.plugins.manager import registry

    supplier = _Supplier("/nowhere/gain.fits")
    registry().register_plugin(supplier, distribution="supplier")
    chosen = str(Path(crds_env) / REFS / "jwst_nircam_gain_0002.fits")
    assert get_reference_file(GainStep(override_gain=chosen), _model(), "gain") == chosen
    assert supplier.calls == []


def test_plugin_naming_a_missing_file_is_an_error(crds_env):
    from pipeline_core.plugins.manager import registry

    registry().register_plugin(_Supplier("/nowhere/gain.fits"), distribution="supplier")
    with pytest.raises(
        ReferenceFileError,
        match=re.escape("the get_reference_file plugin hook names the GAIN reference file '/nowhere/gain.fits', which does not exist"),
    ):
        get_reference_file(GainStep(), _model(), "gain")


# ------------------------------------------------------------------------------- errors
def test_no_matching_rule_names_step_type_metadata_and_fix(crds_env):
    model = _model(subarray="SUB400P")
    with pytest.raises(ReferenceFileError) as info:
        get_reference_file(GainStep(), model, "gain")
    assert str(info.value) == (
        f"step 'gain_user': CRDS has no GAIN reference file in context jwst_0001.pmap matching "
        f"{_described(model)}: "
        "parameter='META.SUBARRAY.NAME' value='SUB400P' is not in ['FULL', 'SUB160', 'SUB64P']. "
        "CRDS rules: jwst_nircam_gain_0001.rmap covers META.INSTRUMENT.DETECTOR/META.SUBARRAY.NAME = "
        "NRCA1/FULL, NRCA1/SUB160, NRCA1/SUB64P, NRCA3/SUB160, NRCA3/SUB64P, NRCB1/SUB160, NRCB1/SUB64P "
        "(dated by META.OBSERVATION.DATE/TIME). Set override_gain to a GAIN reference file, or use "
        "a context (CRDS_CONTEXT) whose rules "
        "cover these data."
    )


def test_observation_before_every_useafter_is_an_error(crds_env):
    with pytest.raises(
        ReferenceFileError,
        match=re.escape("CRDS has no DARK reference file in context jwst_0001.pmap matching"),
    ):
        get_reference_file(GainStep(), _model(date="2019-01-01"), "dark")


def test_detector_without_full_frame_files_is_an_error(crds_env):
    with pytest.raises(
        ReferenceFileError,
        match=re.escape("No match found. CRDS rules: jwst_nircam_gain_0001.rmap covers"),
    ):
        get_reference_file(GainStep(), _model(detector="NRCB1", subarray="FULL"), "gain")


def test_unknown_instrument_is_an_error(crds_env):
    model = _model(instrument="FGS", detector="GUIDER1", subarray="FULL")
    with pytest.raises(ReferenceFileError) as info:
        get_reference_file(GainStep(), model, "gain")
    assert str(info.value).startswith(
        "step 'gain_user': no GAIN reference file: the CRDS context has no rules for instrument 'FGS' ("
    )
    assert f"Metadata used: {_described(model)}. Set override_gain" in str(info.value)


def test_reference_missing_from_the_cache_is_explained(crds_env, tmp_path, monkeypatch):
    partial = tmp_path / "partial"
    shutil.copytree(Path(crds_env) / "config", partial / "config")
    shutil.copytree(Path(crds_env) / "mappings", partial / "mappings")
    (partial / REFS).mkdir(parents=True)
    monkeypatch.setenv("CRDS_PATH", str(partial))
    with pytest.raises(ReferenceFileError) as info:
        get_reference_file(GainStep(), _model(), "gain")
    assert str(info.value).startswith(
        f"step 'gain_user': CRDS selects the GAIN reference file 'jwst_nircam_gain_0005.fits' for "
        f"{_described(_model())}, but it is not in {partial} and could not be fetched ("
    )


def test_context_missing_from_the_cache_is_an_error(crds_env, monkeypatch):
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_0999.pmap")
    with pytest.raises(ReferenceFileError) as info:
        get_reference_file(GainStep(), _model(), "gain")
    message = str(info.value)
    assert message.startswith(
        "step 'gain_user': CRDS could not look up the GAIN reference file for "
        f"{_described(_model())}: CrdsDownloadError: "
    )
    assert message.endswith(
        f"Check the CRDS settings (CRDS_PATH: {crds_env}; CRDS_CONTEXT: jwst_0999.pmap), or set "
        "override_gain to a local file."
    )


def test_crds_not_configured_says_how_to_configure(monkeypatch, empty_registry):
    monkeypatch.delenv("CRDS_PATH", raising=False)
    crds_client.reset()
    with pytest.raises(ReferenceFileError) as info:
        get_reference_file(GainStep(), _model(), "gain")
    assert str(info.value) == (
        "step 'gain_user': cannot look up the GAIN reference file: CRDS is not configured: "
        "CRDS_PATH is not set and no plugin provides a default reference cache. Set CRDS_PATH to a "
        "CRDS cache folder (and CRDS_SERVER_URL to reach a CRDS server), or install steppe's "
        "built-in steps, which provide an embedded offline reference set."
    )


def test_crds_path_that_is_not_a_cache_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CRDS_PATH", str(tmp_path))
    with pytest.raises(
        ReferenceFileError,
        match=re.escape(f"CRDS is not usable: CRDS_PATH is '{tmp_path}', which has no 'config/jwst/server_config' file"),
    ):
        get_reference_file(GainStep(), _model(), "gain")


def test_input_without_metadata_is_an_error():
    with pytest.raises(
        ReferenceFileError,
        match=re.escape("step 'gain_user': cannot look up a GAIN reference file for a ndarray"),
    ):
        get_reference_file(GainStep(), np.zeros(3), "gain")


# ------------------------------------------------------------------- offline, run time
def test_lookups_never_touch_the_network_nor_write_the_cache(crds_env, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("network use attempted")

    for name in ("getaddrinfo", "create_connection"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    before = {p: p.stat().st_mtime_ns for p in Path(crds_env).rglob("*")}
    for reftype in ("mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise", "ipc"):
        get_reference_file(GainStep(), _model(), reftype)
    assert {p: p.stat().st_mtime_ns for p in Path(crds_env).rglob("*")} == before


def test_default_cache_from_the_plugin_hook_when_crds_path_is_unset(embedded_crds_cache, monkeypatch):
    monkeypatch.delenv("CRDS_PATH", raising=False)
    monkeypatch.delenv("CRDS_SERVER_URL", raising=False)
    crds_client.reset()
    path = get_reference_file(GainStep(), _model(), "gain")
    assert path == str(Path(embedded_crds_cache) / REFS / "jwst_nircam_gain_0005.fits")
    assert "CRDS_PATH" not in os.environ  # the call's settings do not leak


def test_switching_crds_path_between_lookups_uses_the_new_cache(crds_env, tmp_path, monkeypatch):
    from builtin_steps.refdata.mappings import with_checksum

    other = tmp_path / "other"
    shutil.copytree(Path(crds_env) / "config", other / "config")
    shutil.copytree(Path(crds_env) / "mappings", other / "mappings")
    (other / "references").mkdir()
    os.symlink(Path(crds_env) / REFS, other / REFS)
    rmap = other / "mappings" / "jwst" / "jwst_nircam_gain_0001.rmap"
    text = rmap.read_text().replace("'jwst_nircam_gain_0005.fits'", "'jwst_nircam_gain_0003.fits'")
    rmap.write_text(with_checksum(re.sub(r"'sha1sum' : '[0-9a-f]+',", "'sha1sum' : '',", text)))

    assert get_reference_file(GainStep(), _model(), "gain").endswith("jwst_nircam_gain_0005.fits")
    monkeypatch.setenv("CRDS_PATH", str(other))
    assert get_reference_file(GainStep(), _model(), "gain") == str(other / REFS / "jwst_nircam_gain_0003.fits")
    monkeypatch.setenv("CRDS_PATH", crds_env)
    assert get_reference_file(GainStep(), _model(), "gain").endswith("jwst_nircam_gain_0005.fits")


# --------------------------------------------------------------------------- shape check
def _gain_ref(shape, start, subarray):
    ref = GainModel(data=np.arange(shape[0] * shape[1], dtype=np.float32).reshape(shape))
    ref.meta.reftype = "GAIN"
    ref.meta.filename = "gain.fits"
    ref.meta.subarray.name = subarray
    ref.meta.subarray.xstart, ref.meta.subarray.ystart = start
    return ref


def test_matching_shape_returns_the_reference_itself():
    ref = _gain_ref((160, 160), (1889, 1), "SUB160")
    assert check_reference_shape(GainStep(), "gain", ref, _model()) is ref


def test_full_frame_reference_is_cut_to_the_subarray():
    ref = _gain_ref((2048, 2048), (1, 1), "FULL")
    cut = check_reference_shape(GainStep(), "gain", ref, _model())
    np.testing.assert_array_equal(cut.data, ref.data[0:160, 1888:2048])
    assert (cut.meta.subarray.name, cut.meta.subarray.xstart, cut.meta.subarray.xsize) == ("SUB160", 1889, 160)
    assert ref.data.shape == (2048, 2048)  # the original is untouched


def test_subarray_mismatch_is_an_error():
    ref = _gain_ref((64, 64), (1, 101), "SUB64P")
    with pytest.raises(ReferenceFileError) as info:
        check_reference_shape(GainStep(), "gain", ref, _model())
    assert str(info.value) == (
        "step 'gain_user': the GAIN reference file 'gain.fits' covers 64x64 pixels (subarray SUB64P "
        "at x=1, y=101) but the data are 160x160 pixels (subarray SUB160 at x=1889, y=1); it cannot "
        "calibrate them. Give a reference file for subarray SUB160 (override_gain), or check the "
        "data's META.SUBARRAY keywords."
    )


def test_same_size_at_another_position_is_an_error():
    ref = _gain_ref((160, 160), (1, 1), "SUB160")
    with pytest.raises(
        ReferenceFileError,
        match=re.escape("(subarray SUB160 at x=1, y=1) but the data are 160x160 pixels (subarray SUB160 at x=1889, y=1)"),
    ):
        check_reference_shape(GainStep(), "gain", ref, _model())


def test_reference_of_another_type_is_an_error():
    ref = _gain_ref((160, 160), (1889, 1), "SUB160")
    ref.meta.reftype = "READNOISE"
    with pytest.raises(ReferenceFileError) as info:
        check_reference_shape(GainStep(), "gain", ref, _model())
    assert str(info.value) == (
        "step 'gain_user': 'gain.fits' is a READNOISE reference file (REFTYPE='READNOISE'), not "
        "GAIN. Give a GAIN reference file (override_gain)."
    )


def test_the_reftype_of_a_file_is_read_once_until_the_file_changes(tmp_path, monkeypatch):
    from pipeline_core.references import lookup as references

    path = tmp_path / "gain.fits"
    _ref = GainModel(data=np.ones((4, 4), np.float32))
    _ref.meta.reftype = "GAIN"
    _ref.save(path)
    reads = []
    original = references._read_reftype_from_file
    monkeypatch.setattr(
        references, "_read_reftype_from_file", lambda p: reads.append(p) or original(p)
    )
    assert references._read_reftype(str(path)) == "gain"
    assert references._read_reftype(str(path)) == "gain"
    assert len(reads) == 1
    other = ReadnoiseModel(data=np.ones((4, 4), np.float32))
    other.meta.reftype = "READNOISE"
    other.save(path)
    stamp = path.stat()
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))
    assert references._read_reftype(str(path)) == "readnoise"
    assert len(reads) == 2
