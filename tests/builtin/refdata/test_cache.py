"""The embedded reference set: its cache layout, rules and reference files."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from builtin_steps.refdata import cache as cache_module
from builtin_steps.refdata import layout
from builtin_steps.refdata.cache import MANIFEST_NAME, default_cache_path, ensure_embedded_cache, is_complete
from pipeline_core.errors import ReferenceFileError

REFS = Path("references") / "jwst"


def _ref(cache: str, name: str) -> Path:
    return Path(cache) / REFS / name


def _rules(cache: str, reftype: str, instrument: str = "nircam") -> str:
    return (Path(cache) / "mappings" / "jwst" / f"jwst_{instrument}_{reftype}_0001.rmap").read_text()


def _file_for(cache: str, reftype: str, detector: str, subarray: str, which: int = 0) -> Path:
    """The file the rmap names for (detector, subarray): the first or a later use-after."""
    text = _rules(cache, reftype)
    block = re.search(rf"\('{detector}', '{subarray}'\) : UseAfter\(\{{(.*?)\}}\)", text, re.S)
    assert block, f"no rule for {detector} {subarray} in the {reftype} rmap"
    names = re.findall(r"'(jwst_[^']+\.fits)'", block.group(1))
    return _ref(cache, names[which])


def test_cache_is_complete_and_laid_out_for_crds(embedded_crds_cache):
    root = Path(embedded_crds_cache)
    assert is_complete(root)
    manifest = json.loads((root / MANIFEST_NAME).read_text())
    assert manifest["revision"] == cache_module.SET_REVISION
    for entry in manifest["files"]:
        assert (root / entry).is_file(), entry
    config = eval((root / "config" / "jwst" / "server_config").read_text(), {})  # a literal dict
    assert config["operational_context"] == config["latest_context"] == layout.CONTEXT_NAME
    assert config["bad_files_list"] == [] and config["force_remote_mode"] is False
    assert (root / "config" / "jwst" / "ref_cache_subdir_mode").read_text().strip() == "flat"
    assert not list(root.parent.glob(f".{root.name}.build-*")), "a build folder was left behind"


def test_default_path_follows_steppe_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("STEPPE_CACHE_DIR", str(tmp_path))
    assert default_cache_path().startswith(str(tmp_path) + os.sep + "crds-")
    monkeypatch.delenv("STEPPE_CACHE_DIR")
    assert default_cache_path().startswith(os.path.join(os.path.expanduser("~"), ".cache", "steppe"))


def test_ensure_returns_an_existing_cache_without_rebuilding(embedded_crds_cache):
    manifest = Path(embedded_crds_cache) / MANIFEST_NAME
    before = manifest.stat().st_mtime_ns
    assert ensure_embedded_cache(embedded_crds_cache) == embedded_crds_cache
    assert ensure_embedded_cache() == embedded_crds_cache  # the default path is the session one
    assert manifest.stat().st_mtime_ns == before


def _copy_build(source: str):
    """A stand-in for build_cache writing only what makes a set complete (fast)."""

    def build(path):
        config = Path(path) / "config" / "jwst"
        config.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(source) / "config" / "jwst" / "server_config", config)
        shutil.copy(Path(source) / MANIFEST_NAME, Path(path) / MANIFEST_NAME)
        return str(path)

    return build


def test_ensure_fills_an_empty_folder(embedded_crds_cache, monkeypatch, tmp_path):
    monkeypatch.setattr(cache_module, "build_cache", _copy_build(embedded_crds_cache))
    target = tmp_path / "empty"
    target.mkdir()
    assert ensure_embedded_cache(target) == str(target)
    assert is_complete(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_losing_a_build_race_uses_the_winners_cache(embedded_crds_cache, monkeypatch, tmp_path):
    target = tmp_path / "shared"
    copy = _copy_build(embedded_crds_cache)

    def racing_build(path):
        copy(path)
        copy(target)  # another process finishes first and renames its copy into place
        (target / "winner").write_text("other process")

    monkeypatch.setattr(cache_module, "build_cache", racing_build)
    assert ensure_embedded_cache(target) == str(target)
    assert (target / "winner").read_text() == "other process"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"], "the losing build was not removed"


def test_a_failed_build_leaves_nothing_behind(monkeypatch, tmp_path):
    def broken_build(path):
        (Path(path) / "partial").write_text("x")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module, "build_cache", broken_build)
    target = tmp_path / "cache"
    with pytest.raises(
        ReferenceFileError,
        match=re.escape(f"cannot build the embedded reference set in '{target}'"),
    ):
        ensure_embedded_cache(target)
    assert list(tmp_path.iterdir()) == []


def test_a_foreign_folder_is_not_overwritten(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ReferenceFileError) as info:
        ensure_embedded_cache(tmp_path)
    assert str(info.value) == (
        f"cannot build the embedded reference set in '{tmp_path}': the folder exists, is not "
        "empty and is not a complete embedded set. Remove it, or choose another folder "
        "(set STEPPE_CACHE_DIR or pass a path)."
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_every_mapping_passes_crds_checksum(embedded_crds_cache):
    from crds.core import rmap

    maps = sorted((Path(embedded_crds_cache) / "mappings" / "jwst").iterdir())
    # pmap, 4 imaps; rmaps: NIRCam 7 + sirskernel + 3 pars, NIRISS 7 + sirskernel,
    # MIRI 7 + rscd + emicorr, NIRSpec 8 + sirskernel + refpix; 7 imaging rmaps (with apcorr
    # and abvegaoffset) for each of NIRCam, NIRISS and MIRI
    assert len(maps) == 1 + 4 + 11 + 8 + 9 + 10 + 3 * 7
    for path in maps:
        loaded = rmap.load_mapping(str(path))
        assert loaded.name == path.name


@pytest.mark.parametrize(
    ("reftype", "extensions", "datamodel"),
    [
        ("mask", {"DQ": "uint32", "DQ_DEF": None}, "MaskModel"),
        ("saturation", {"SCI": "float32", "DQ": "uint32", "DQ_DEF": None}, "SaturationModel"),
        ("superbias", {"SCI": "float32", "DQ": "uint32", "ERR": "float32", "DQ_DEF": None}, "SuperBiasModel"),
        ("linearity", {"COEFFS": "float32", "DQ": "uint32", "DQ_DEF": None}, "LinearityModel"),
        ("dark", {"SCI": "float32", "DQ": "uint32", "DQ_DEF": None}, "DarkModel"),
        ("gain", {"SCI": "float32"}, "GainModel"),
        ("readnoise", {"SCI": "float32"}, "ReadnoiseModel"),
    ],
)
def test_reference_files_have_the_jwst_layout(embedded_crds_cache, reftype, extensions, datamodel):
    path = _file_for(embedded_crds_cache, reftype, "NRCA3", "SUB64P")
    with fits.open(path) as hdul:
        header = hdul[0].header
        assert [h.name for h in hdul[1:]] == list(extensions)
        for name, dtype in extensions.items():
            if dtype is not None:
                assert hdul[name].data.dtype.newbyteorder("=") == np.dtype(dtype), name
        assert hdul[-1].name != "DQ_DEF" or "VALUE" in hdul["DQ_DEF"].columns.names
    assert (header["REFTYPE"], header["DATAMODL"], header["TELESCOP"]) == (reftype.upper(), datamodel, "JWST")
    assert (header["INSTRUME"], header["DETECTOR"], header["SUBARRAY"]) == ("NIRCAM", "NRCA3", "SUB64P")
    assert (header["SUBSTRT1"], header["SUBSTRT2"], header["SUBSIZE1"], header["SUBSIZE2"]) == (1, 101, 64, 64)
    assert header["USEAFTER"] == "2022-01-01T00:00:00"


def test_reference_values_are_physically_sensible(embedded_crds_cache):
    def data(reftype, ext="SCI"):
        return fits.getdata(_file_for(embedded_crds_cache, reftype, "NRCA1", "SUB160"), ext)

    mask = data("mask", "DQ")
    bias, gain, noise = data("superbias"), data("gain"), data("readnoise")
    saturation, coeffs, dark = data("saturation"), data("linearity", "COEFFS"), data("dark")
    assert 11500 < np.median(bias) < 12500 and 5 < np.std(bias) < 400
    assert 1.9 < np.median(gain) < 2.1
    assert 9 < np.median(noise) < 11
    science = ~np.isnan(saturation)
    assert 58000 < np.median(saturation[science]) < 62000
    assert np.all(coeffs[1] == 1) and 8e-7 < np.median(coeffs[2]) < 1.2e-6
    frame_time = layout.NIRCAM.subarrays[1].frame_time
    rate_e = np.median(dark[-1] / (frame_time * dark.shape[0])) * np.median(gain)
    assert 0.003 < rate_e < 0.007  # e-/s
    hot = (mask & 2048) > 0
    dead = (mask & 1024) > 0
    assert 0 < hot.sum() < 50 and 0 < dead.sum() < 50
    assert np.all(mask[dead] & 1)  # dead pixels are DO_NOT_USE
    assert np.median(dark[-1][hot]) > 100 * np.median(dark[-1])  # hot pixels are hot in the dark too


def test_full_frame_set_opens_as_data_models(embedded_crds_cache):
    from pipeline_core.datamodels import DarkModel, LinearityModel, open_model

    dark = open_model(_file_for(embedded_crds_cache, "dark", "NRCA1", "FULL"))
    assert isinstance(dark, DarkModel) and dark.data.shape == (10, 2048, 2048)
    linearity = open_model(_file_for(embedded_crds_cache, "linearity", "NRCA1", "FULL"))
    assert isinstance(linearity, LinearityModel) and linearity.coeffs.shape == (5, 2048, 2048)


def test_full_frame_set_has_the_reference_pixel_border(embedded_crds_cache):
    mask = fits.getdata(_file_for(embedded_crds_cache, "mask", "NRCA1", "FULL"), "DQ")
    assert mask.shape == (2048, 2048)
    reference = (mask & (1 << 31)) > 0
    border = np.ones_like(reference)
    border[4:-4, 4:-4] = False
    np.testing.assert_array_equal(reference, border)


def test_subarray_files_are_cutouts_of_the_full_frame_ones(embedded_crds_cache):
    sub64 = layout.NIRCAM.subarrays[0]
    rows, cols = sub64.slices
    for reftype, ext in (("superbias", "SCI"), ("gain", "SCI"), ("mask", "DQ"), ("linearity", "COEFFS")):
        full = fits.getdata(_file_for(embedded_crds_cache, reftype, "NRCA1", "FULL"), ext)
        cut = fits.getdata(_file_for(embedded_crds_cache, reftype, "NRCA1", "SUB64P"), ext)
        np.testing.assert_array_equal(cut, full[..., rows, cols])


def test_updated_gain_is_a_later_calibration(embedded_crds_cache):
    first = fits.getdata(_file_for(embedded_crds_cache, "gain", "NRCA1", "SUB160", 0))
    later_path = _file_for(embedded_crds_cache, "gain", "NRCA1", "SUB160", 1)
    np.testing.assert_allclose(fits.getdata(later_path), first * 1.01, rtol=1e-6)
    assert fits.getheader(later_path)["USEAFTER"] == "2024-06-01T00:00:00"


def test_pars_files_use_the_stpipe_layout_and_jwst_class_names(embedded_crds_cache):
    from pipeline_core.config.parfile import read_parameter_file

    jump = read_parameter_file(_ref(embedded_crds_cache, "jwst_nircam_pars-jumpstep_0001.asdf"))
    assert (jump.class_name, jump.name) == ("jwst.jump.jump_step.JumpStep", "jump")
    assert jump.parameters["rejection_threshold"] == 4.0
    pipe = read_parameter_file(_ref(embedded_crds_cache, "jwst_nircam_pars-detector1pipeline_0001.asdf"))
    assert pipe.class_name == "jwst.pipeline.calwebb_detector1.Detector1Pipeline"
    assert [(s.class_name, s.name) for s in pipe.steps] == [
        ("jwst.jump.jump_step.JumpStep", "jump"),
        ("jwst.ramp_fitting.ramp_fit_step.RampFitStep", "ramp_fit"),
    ]
    import asdf

    with asdf.open(_ref(embedded_crds_cache, "jwst_nircam_pars-rampfitstep_0001.asdf")) as handle:
        assert handle.tree["meta"]["reftype"] == "pars-rampfitstep"
        assert handle.tree["meta"]["instrument"]["name"] == "NIRCAM"
