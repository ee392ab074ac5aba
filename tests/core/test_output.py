"""Product naming (JWST suffix rules) and atomic writes."""

from __future__ import annotations

import os

import pytest

from pipeline_core.output import atomic_write, make_output_path, remove_suffix, split_ext


@pytest.mark.parametrize(
    ("name", "suffix", "expected"),
    [
        ("jw01_nrca1_uncal.fits", "rate", "jw01_nrca1_rate.fits"),
        ("raw/jw01_nrca1_uncal.fits", "rate", "jw01_nrca1_rate.fits"),
        ("jw01_nrca1_rateints.fits", "cal", "jw01_nrca1_cal.fits"),
        ("jw01_nrca1_ramp.fits", "jump", "jw01_nrca1_jump.fits"),
        ("jw01_nrca1_jump.fits", "ramp_fit", "jw01_nrca1_ramp_fit.fits"),
        ("plain.fits", "rate", "plain_rate.fits"),
        ("jw01_nrca1_uncal.fits.gz", "rate", "jw01_nrca1_rate.fits"),
        ("jw01_nrca1_uncal.fits", None, "jw01_nrca1.fits"),
    ],
)
def test_input_suffix_is_replaced(name, suffix, expected):
    assert make_output_path(name, suffix, known_suffixes={"jump", "ramp_fit"}) == expected


def test_step_alias_is_only_removed_when_known():
    assert make_output_path("x_jump.fits", "rate") == "x_jump_rate.fits"
    assert make_output_path("x_jump.fits", "rate", known_suffixes=["jump"]) == "x_rate.fits"


def test_output_file_is_a_base_name():
    assert make_output_path("jw_uncal.fits", "rate", output_file="mine") == "mine_rate.fits"
    assert make_output_path("jw_uncal.fits", "rate", output_file="mine.fits") == "mine_rate.fits"
    assert make_output_path(None, "rate", output_file="mine_rate.fits") == "mine_rate.fits"


def test_output_dir_is_created(tmp_path):
    target = tmp_path / "new" / "deeper"
    path = make_output_path("jw_uncal.fits", "rate", output_dir=target)
    assert path == os.path.join(str(target), "jw_rate.fits")
    assert target.is_dir()


def test_output_file_directory_is_used_without_output_dir(tmp_path):
    path = make_output_path("jw_uncal.fits", "rate", output_file=tmp_path / "sub" / "base.fits")
    assert path == os.path.join(str(tmp_path / "sub"), "base_rate.fits")


def test_extension_and_index():
    assert make_output_path("jw_uncal.fits", "rate", ext=".asdf") == "jw_rate.asdf"
    assert make_output_path("jw_uncal.asdf", "rate", ext=None) == "jw_rate.asdf"
    assert make_output_path("jw_uncal.fits", "rate", ext="asdf", index=1) == "jw_1_rate.asdf"


def test_no_name_at_all_is_an_error():
    with pytest.raises(ValueError, match="neither an input file name nor output_file"):
        make_output_path(None, "rate")


def test_remove_suffix_prefers_the_longest_match():
    assert remove_suffix("x_rateints", {"ints", "rateints"}) == "x"
    assert remove_suffix("uncal", {"uncal"}) == "uncal"  # never strips to nothing
    assert split_ext("a/b.c.fits") == ("a/b.c", ".fits")


def test_atomic_write_replaces_the_file_on_success(tmp_path):
    target = tmp_path / "out.fits"
    target.write_text("old")
    with atomic_write(target) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path)
        assert tmp.endswith(".fits") and not os.path.exists(tmp)
        with open(tmp, "w") as fh:
            fh.write("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["out.fits"]


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "out.fits"
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_write(target) as tmp:
            with open(tmp, "w") as fh:
                fh.write("partial")
            raise RuntimeError("crash while writing")
    assert os.listdir(tmp_path) == []


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.fits"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target) as tmp:
            open(tmp, "w").close()
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.fits"]


def test_atomic_write_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_write(tmp_path / "x.fits"):
            pass
    assert os.listdir(tmp_path) == []
