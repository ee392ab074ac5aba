"""Product names that would escape ``output_dir`` are refused, or kept inside it.

``output_file``, ``suffix`` and ``output_ext`` with ``../`` or an absolute path are
refused with a message naming the parameter, the value and the remedy; nothing is
written anywhere. Path parts the user does not choose directly (the folders of
the input file and of the name a model records) are dropped: the product stays in
``output_dir``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline_core.cli.main import run_cli
from pipeline_core.errors import ParameterError
from tests.reliability._steps import FillStep, digest, product_value, write_image


@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


@pytest.fixture
def layout(tmp_path):
    """tmp/in/jw_names_uncal.fits, an empty tmp/deep/out, and the set of files before."""
    (tmp_path / "in").mkdir()
    inp = write_image(tmp_path / "in" / "jw_names_uncal.fits", value=5.0)
    out = tmp_path / "deep" / "out"
    out.mkdir(parents=True)
    return inp, out


def _all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "params, fragments",
    [
        ({"output_file": "../escape"}, ["parameter 'output_file' = '../escape' contains a folder ('..')",
                                        "the folder is output_dir"]),
        ({"output_file": "/tmp/escape"}, ["parameter 'output_file' = '/tmp/escape' contains a folder ('/tmp')",
                                          "output_dir='/tmp', output_file='escape'"]),
        ({"suffix": "../../escape"}, ["suffix = '../../escape' would put the product outside its folder",
                                      "accepted: a plain word such as 'rate'",
                                      "Choose the folder with output_dir instead"]),
        ({"suffix": "/etc/escape"}, ["suffix = '/etc/escape' would put the product outside its folder"]),
        ({"output_ext": "/../../escape.fits"}, ["output_ext = '/../../escape.fits' would put the product "
                                                "outside its folder", "accepted: '.fits' or '.asdf'"]),
    ],
)
def test_escaping_names_are_refused_and_nothing_is_written(tmp_path, layout, params, fragments):
    inp, out = layout
    before, files = digest(inp), _all_files(tmp_path)
    with pytest.raises(ParameterError) as info:
        FillStep.call(str(inp), save_results=True, output_dir=str(out), **params)
    message = str(info.value)
    assert message.startswith("step 'fill_value': ")
    for fragment in fragments:
        assert fragment in message
    assert _all_files(tmp_path) == files  # nothing written, anywhere
    assert digest(inp) == before


def test_escaping_suffix_from_the_command_line(tmp_path, layout, register_steps, empty_registry):
    register_steps(FillStep, distribution="fault-tests", version="1.0")
    inp, out = layout
    files = _all_files(tmp_path)
    err = io.StringIO()
    status = run_cli(
        ["run", "fill_value", str(inp), "--output-dir", str(out), "--suffix=../../../escape"],
        stdout=io.StringIO(), stderr=err,
    )
    assert status == 1
    (line,) = err.getvalue().splitlines()
    assert line.startswith("steppe: error: ") and "suffix = '../../../escape'" in line
    assert "output_dir" in line
    assert _all_files(tmp_path) == files


def test_folders_of_the_input_and_of_the_model_name_stay_out(tmp_path, layout):
    inp, out = layout
    model = FillStep.call(str(inp))  # in memory
    model.meta.filename = "../../../../escape_uncal.fits"
    FillStep.call(model, save_results=True, output_dir=str(out), output_use_model=True, value=7.0)
    assert sorted(p.name for p in out.iterdir()) == ["escape_filled.fits"]
    assert product_value(out / "escape_filled.fits") == 7.0
    relative = Path("..") / ".." / "in" / inp.name  # the input named through parent folders
    FillStep.call(str(out / relative), save_results=True, output_dir=str(out), value=8.0)
    assert product_value(out / "jw_names_filled.fits") == 8.0
    assert {p.parent for p in _all_files(tmp_path)} == {tmp_path / "in", out}
