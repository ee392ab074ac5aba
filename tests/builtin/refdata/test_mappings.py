"""The CRDS mapping writers: canonical text and checksums crds accepts."""

from __future__ import annotations

import pytest

from builtin_steps.refdata.mappings import (
    instrument_mapping,
    mapping_checksum,
    pipeline_mapping,
    reference_mapping,
    with_checksum,
)


def _crds_load(path):
    from crds.core import rmap

    return rmap.load_mapping(str(path))


def test_checksum_ignores_sha1sum_lines():
    text = "header = {\n    'sha1sum' : 'abc',\n}\n"
    assert mapping_checksum(text) == mapping_checksum(text.replace("abc", "def"))
    assert mapping_checksum(text) != mapping_checksum(text + "x\n")


def test_with_checksum_needs_a_placeholder():
    with pytest.raises(ValueError, match="no empty 'sha1sum' entry"):
        with_checksum("header = {}\n")


def test_reference_mapping_loads_in_crds_with_dated_rules(tmp_path):
    name = "jwst_nircam_gain_0001.rmap"
    text = reference_mapping(
        name,
        "NIRCAM",
        "gain",
        ("META.INSTRUMENT.DETECTOR", "META.SUBARRAY.NAME"),
        {
            ("NRCA1", "FULL"): {"2022-01-01 00:00:00": "a.fits", "2024-06-01 00:00:00": "b.fits"},
            ("NRCB1", "N/A"): {"2022-01-01 00:00:00": "N/A"},
        },
    )
    (tmp_path / name).write_text(text)
    loaded = _crds_load(tmp_path / name)
    assert loaded.filekind == "gain"
    assert sorted(loaded.reference_names()) == ["a.fits", "b.fits"]


def test_undated_rules_use_a_single_match_class(tmp_path):
    name = "jwst_nircam_pars-jumpstep_0001.rmap"
    text = reference_mapping(
        name,
        "NIRCAM",
        "pars-jumpstep",
        ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.READPATT"),
        {("NRCA1|NRCB1", "RAPID"): "p.asdf", ("NRCA1|NRCB1", "DEEP8"): "N/A"},
    )
    assert "'classes' : ('Match',)," in text
    (tmp_path / name).write_text(text)
    assert _crds_load(tmp_path / name).reference_names() == ["p.asdf"]


def test_mixed_dated_and_undated_rules_are_refused():
    with pytest.raises(ValueError, match="either every rule is dated or none is"):
        reference_mapping(
            "jwst_nircam_x_0001.rmap", "NIRCAM", "x", ("A",), {("1",): {"2022-01-01 00:00:00": "f"}, ("2",): "g"}
        )


def test_edited_mapping_fails_crds_checksum(tmp_path):
    from crds.core.exceptions import ChecksumError

    name = "jwst_nircam_0001.imap"
    text = instrument_mapping(name, "NIRCAM", {"gain": "jwst_nircam_gain_0001.rmap", "ipc": "N/A"})
    assert "'IPC' : 'N/A'," in text
    (tmp_path / name).write_text(text.replace("'IPC' : 'N/A',", "'IPC' : 'N/A',  "))
    with pytest.raises(ChecksumError, match="sha1sum mismatch"):
        _crds_load(tmp_path / name)


def test_pipeline_mapping_lists_instruments():
    text = pipeline_mapping("jwst_0001.pmap", {"NIRISS": "b.imap", "NIRCAM": "a.imap"})
    assert text.index("'NIRCAM' : 'a.imap'") < text.index("'NIRISS' : 'b.imap'")
    assert "'parkey' : ('META.INSTRUMENT.NAME',)," in text
