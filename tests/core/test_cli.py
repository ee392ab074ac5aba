"""The ``steppe`` command, run in-process through ``run_cli``."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline_core import Pipeline, Step, hookimpl
from pipeline_core.plugins import manager as registry_module
from pipeline_core.cli.args import parse_step_arguments
from pipeline_core.cli.main import build_parser, main, run_cli
from pipeline_core.datamodels import ImageModel, open_model
from pipeline_core.errors import ParameterError

ROOT = Path(__file__).resolve().parents[2]


class AddConstStep(Step):
    """Add a constant to the data."""

    class_alias = "add_const"
    spec = "value = float(default=1.0)  # added to every pixel"

    def process(self, input):
        input.data = input.data + self.value
        return input


class TimesStep(Step):
    """Multiply the data (declared parallel, to show in the listing)."""

    class_alias = "times"
    parallel = True
    spec = "factor = float(default=2.0)  # multiplier"

    def process(self, input):
        input.data = input.data * self.factor
        return input


class AddTimesPipeline(Pipeline):
    """add_const then times."""

    class_alias = "add_times"
    step_defs = {"add": AddConstStep, "scale": "times"}

    def process(self, input):
        return self.scale.run(self.add.run(input))


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_cli(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def steps(empty_registry, register_steps):
    register_steps(AddConstStep, TimesStep, AddTimesPipeline, distribution="steppe-test", version="9.1")
    return empty_registry


@pytest.fixture
def image_file(tmp_path):
    model = ImageModel((3, 4))
    model.data[...] = 1.0
    path = tmp_path / "jw01234001001_01101_00001_nrca1_rate.fits"
    model.save(str(path))
    return path


# ------------------------------------------------------------------ --version, help


def test_version_prints_one_line_and_loads_no_plugin(monkeypatch):
    def forbidden():
        raise AssertionError("plugins were loaded")

    monkeypatch.setattr(registry_module, "_entry_points", forbidden)
    status, out, err = cli("--version")
    assert (status, err) == (0, "")
    assert re.fullmatch(r"steppe \S+\n", out)


def test_version_in_a_fresh_process_is_one_line():
    result = subprocess.run(
        [sys.executable, "-c", "from pipeline_core.cli.main import main; main()", "--version"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("steppe ")


def test_no_command_prints_help_and_fails():
    status, out, _ = cli()
    assert status == 2 and "usage: steppe" in out


def test_help_exits_zero(capsys):
    assert run_cli(["run", "--help"]) == 0
    assert "--steps.STEP.name=value" in capsys.readouterr().out


def test_main_exits_with_the_status(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["steppe", "list", "--bogus"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


# ------------------------------------------------------------------ list


def test_list_shows_alias_class_path_distribution_and_parallel(steps):
    status, out, err = cli("list")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["ALIAS", "CLASS", "PATH", "DISTRIBUTION", "PARALLEL"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["add_const"] == [
        "add_const", f"{__name__}.AddConstStep", "steppe-test", "9.1", "no"
    ]
    assert rows["times"][-1] == "yes"
    assert rows["-"][1] == "pipeline_core.steps.pipeline.Pipeline"
    assert lines[-1].startswith("-")  # steps without an alias come last


def test_list_filters_by_glob(steps):
    status, out, _ = cli("list", "add*")
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["add_const", "add_times"]
    assert cli("list", f"{__name__}.Times*")[1].splitlines()[1].startswith("times ")


def test_list_without_a_match_fails(steps):
    status, _, err = cli("list", "nothing*")
    assert status == 1
    assert err == "steppe: no step matches 'nothing*'\n"


def test_list_reports_conflicts_and_broken_plugins_on_stderr(steps, make_distribution, monkeypatch):
    class Rival:
        @hookimpl
        def register_steps(self):
            return [{"class_path": "rival.steps.Add", "alias": "add_const"}]

    steps.register_plugin(Rival(), distribution="steppe-rival", version="1")
    status, out, err = cli("list", "add_const")
    assert status == 0
    assert len(out.splitlines()) == 3
    assert err.startswith("steppe: warning: step name 'add_const' is claimed by more than one registration")


def test_list_prints_plugin_import_failures_as_warnings(make_distribution, monkeypatch):
    make_distribution(
        "steppe-fake-broken", "0.2",
        modules={"fake_cli_broken": "raise ImportError('missing library')\n"},
        entry_points={"broken": "fake_cli_broken"},
    )
    real = registry_module._entry_points
    monkeypatch.setattr(
        registry_module, "_entry_points",
        lambda: [ep for ep in real() if ep.dist.name.startswith("steppe-fake")],
    )
    status, out, err = cli("list")
    assert status == 0
    assert err == (
        "steppe: warning: steppe plugin steppe-fake-broken==0.2 (entry point 'broken = "
        "fake_cli_broken') failed to import and was skipped: ImportError: missing library\n"
    )


# ------------------------------------------------------------------ run


def test_run_a_step_with_a_parameter(steps, image_file, tmp_path):
    out_dir = tmp_path / "out"
    status, out, err = cli("run", "add_const", str(image_file), "--value=2.5", "--output-dir", str(out_dir))
    assert status == 0, err
    assert "add_const finished on" in out
    (product,) = out_dir.glob("*.fits")
    assert product.name == "jw01234001001_01101_00001_nrca1_add_const.fits"
    np.testing.assert_allclose(open_model(str(product)).data, 3.5)


def test_run_a_pipeline_with_a_step_parameter(steps, image_file, tmp_path):
    status, _, err = cli(
        "run", "add_times", str(image_file), "--steps.scale.factor=10",
        "--steps.add.value=1", f"--output-dir={tmp_path / 'out'}",
    )
    assert status == 0, err
    (product,) = (tmp_path / "out").glob("*.fits")
    np.testing.assert_allclose(open_model(str(product)).data, 20.0)


def test_run_without_saving(steps, image_file, tmp_path):
    status, _, err = cli("run", "add_const", str(image_file), "--no-save-results", "--output-dir", str(tmp_path / "o"))
    assert status == 0, err
    assert not list((tmp_path / "o").glob("*.fits"))


def test_run_output_file_saves_even_with_no_save_results(steps, image_file, tmp_path):
    status, _, err = cli(
        "run", "add_const", str(image_file), "--no-save-results",
        "--output-file=final", "--output-dir", str(tmp_path / "o"),
    )
    assert status == 0, err
    assert [p.name for p in (tmp_path / "o").glob("*.fits")] == ["final_add_const.fits"]


@pytest.fixture
def crds_pars(monkeypatch):
    """A CRDS parameter lookup that sets the pipeline's scale factor to 5."""
    from pipeline_core.references import lookup as references

    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS", raising=False)
    table = {"AddTimesPipeline": {"steps": {"scale": {"factor": 5.0}}}}
    calls = []

    def fake(step_class, model):
        calls.append(step_class.__name__)
        return table.get(step_class.__name__, {})

    monkeypatch.setattr(references, "get_step_parameters", fake)
    return calls


def test_save_parameters_writes_every_layer_and_runs_again(steps, image_file, tmp_path, crds_pars):
    from pipeline_core.config.parfile import read_parameter_file

    used = tmp_path / "used.asdf"
    status, out, err = cli(
        "run", "add_times", str(image_file), "--steps.add.value=2", "--output-dir", str(tmp_path / "a"),
        "--save-parameters", str(used),
    )
    assert status == 0, err
    assert f"steppe: wrote the parameters of this run to {used}\n" in out
    config = read_parameter_file(used)
    assert config.class_name == f"{__name__}.AddTimesPipeline"
    assert config.parameters["save_results"] is True
    assert config.parameters["output_dir"] == str(tmp_path / "a")
    by_name = {s.name: s.parameters for s in config.steps}
    assert by_name["add"]["value"] == 2.0  # command line
    assert by_name["scale"]["factor"] == 5.0  # CRDS parameter reference file
    assert by_name["scale"]["maximum_cores"] == "none"  # coded default
    (first,) = (tmp_path / "a").glob("*.fits")
    np.testing.assert_allclose(open_model(str(first)).data, (1.0 + 2.0) * 5.0)
    # the file reproduces the run on its own, without CRDS
    status, _, err = cli(
        "run", str(used), str(image_file), "--disable-crds-steppars", "--output-dir", str(tmp_path / "b"),
    )
    assert status == 0, err
    (second,) = (tmp_path / "b").glob("*.fits")
    np.testing.assert_array_equal(open_model(str(second)).data, open_model(str(first)).data)


def test_disable_crds_steppars_skips_the_crds_parameters(steps, image_file, tmp_path, crds_pars):
    status, _, err = cli(
        "run", "add_times", str(image_file), "--disable-crds-steppars", "--output-dir", str(tmp_path / "o"),
    )
    assert status == 0, err
    assert crds_pars == []
    (product,) = (tmp_path / "o").glob("*.fits")
    np.testing.assert_allclose(open_model(str(product)).data, (1.0 + 1.0) * 2.0)
    status, _, err = cli("run", "add_times", str(image_file), "--output-dir", str(tmp_path / "p"))
    assert status == 0, err
    assert "AddTimesPipeline" in crds_pars
    (product,) = (tmp_path / "p").glob("*.fits")
    np.testing.assert_allclose(open_model(str(product)).data, (1.0 + 1.0) * 5.0)


def test_save_parameters_is_not_written_for_an_invalid_configuration(steps, image_file, tmp_path):
    status, _, err = cli("run", "add_const", str(image_file), "--value=x",
                         "--save-parameters", str(tmp_path / "bad.asdf"))
    assert status == 1 and "parameter 'value' = 'x'" in err
    assert not (tmp_path / "bad.asdf").exists()


def test_run_a_pipeline_file_mixing_aliases_and_class_paths(steps, image_file, tmp_path):
    pipeline_file = tmp_path / "mine.asdf"
    pipeline_file.write_text(
        "#ASDF 1.0.0\n#ASDF_STANDARD 1.5.0\n%YAML 1.1\n%TAG ! tag:stsci.edu:asdf/\n"
        "--- !core/asdf-1.1.0\n"
        "class: pipeline_core.Pipeline\nname: mine\nparameters: {}\nsteps:\n"
        "- {class: add_const, name: first, parameters: {value: 4.0}}\n"
        f"- {{class: {__name__}.TimesStep, name: second, parameters: {{factor: 3.0}}}}\n"
        "...\n"
    )
    status, _, err = cli("run", str(pipeline_file), str(image_file), "--steps.second.factor=0.5",
                         "--output-dir", str(tmp_path / "out"))
    assert status == 0, err
    (product,) = (tmp_path / "out").glob("*.fits")
    np.testing.assert_allclose(open_model(str(product)).data, (1.0 + 4.0) * 0.5)


def test_run_refuses_an_unregistered_class_path_in_one_line(steps, image_file):
    status, out, err = cli("run", "os.system", str(image_file))
    assert (status, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith("steppe: error: 'os.system' is not a registered step alias or class path.")


def test_run_reports_a_bad_value_in_one_line(steps, image_file):
    status, _, err = cli("run", "add_const", str(image_file), "--value=abc")
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("steppe: error:")
    assert "value" in err and "abc" in err


def test_run_reports_a_parameter_without_equals(steps, image_file):
    status, _, err = cli("run", "add_const", str(image_file), "--value", "3")
    assert status == 1
    assert err == (
        "steppe: error: command-line argument '--value' is not understood: give step parameters "
        "as --name=value (for a pipeline's step: --steps.STEP.name=value)\n"
    )


def test_run_missing_parameter_file(steps, image_file):
    status, _, err = cli("run", "missing.asdf", str(image_file))
    assert status == 1
    assert "parameter file 'missing.asdf' does not exist" in err


def test_debug_prints_the_traceback(steps, image_file):
    status, _, err = cli("run", "os.system", str(image_file), "--debug")
    assert status == 1
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("steppe: error: 'os.system' is not a registered")


def test_unexpected_errors_name_their_type(steps, tmp_path):
    status, _, err = cli("run", "add_const", str(tmp_path / "missing_uncal.fits"))
    assert status == 1
    assert err.startswith("steppe: error: ") and err.count("\n") == 1


# ------------------------------------------------------------------ config


def test_config_prints_the_default_parameter_file(steps):
    status, out, err = cli("config", "add_times")
    assert status == 0, err
    assert f"class: {__name__}.AddTimesPipeline" in out
    assert "factor: 2.0" in out and "value: 1.0" in out


def test_config_saves_a_file_that_runs(steps, tmp_path, image_file):
    target = tmp_path / "add.asdf"
    status, out, err = cli("config", "add_const", "-o", str(target))
    assert status == 0, err
    assert out == f"steppe: wrote {target}\n"
    from pipeline_core.config.parfile import read_parameter_file

    config = read_parameter_file(target)
    assert config.parameters["value"] == 1.0
    assert config.class_name.endswith("AddConstStep")


def test_config_of_an_unknown_name(steps):
    status, _, err = cli("config", "add_cons")
    assert status == 1
    assert "Did you mean 'add_const'?" in err


# ------------------------------------------------------------------ demo and batch


def test_demo_runs_the_prepared_inputs(steps, tmp_path):
    class Demo:
        @hookimpl
        def prepare_demo(self, directory):
            model = ImageModel((2, 2))
            path = Path(directory) / "jw09999001001_01101_00001_nrca3_rate.fits"
            model.save(str(path))
            return {"pipeline": "add_const", "inputs": [str(path)], "description": "adds one"}

    steps.register_plugin(Demo(), distribution="steppe-demo-test")
    status, out, err = cli("demo", "--output-dir", str(tmp_path / "demo"))
    assert status == 0, err
    assert out.splitlines()[0] == "steppe demo: adds one"
    product = tmp_path / "demo" / "jw09999001001_01101_00001_nrca3_add_const.fits"
    assert f"steppe demo: wrote {product}" in out
    np.testing.assert_allclose(open_model(str(product)).data, 1.0)


def test_demo_without_a_plugin_offering_one(empty_registry, tmp_path):
    status, _, err = cli("demo", "--output-dir", str(tmp_path))
    assert status == 1
    assert "no installed plugin offers demonstration data" in err


def test_batch_is_dispatched_to_the_batch_module(steps, image_file, tmp_path):
    status, out, err = cli("batch", "add_const", str(image_file), "--value=1", "--output-dir", str(tmp_path / "b"))
    assert status == 0, err
    assert list((tmp_path / "b").glob("*add_const.fits"))


# ------------------------------------------------------------------ parameters


def test_parse_step_arguments_nests_pipeline_steps():
    assert parse_step_arguments(
        ["--threshold=3", "--steps.jump.rejection_threshold=12", "--steps.jump.skip=true", "--output-file=x"]
    ) == {
        "threshold": "3",
        "steps": {"jump": {"rejection_threshold": "12", "skip": "true"}},
        "output_file": "x",
    }


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (["--a=1", "--a=2"], "parameter 'a' is given more than once"),
        (["--steps=1", "--steps.jump.x=2"], "parameter 'steps' is given both as a value and as a group"),
        (["--steps..x=1"], "parameter name 'steps..x' in '--steps..x=1' is not valid"),
        (["value=3"], "command-line argument 'value=3' is not understood"),
    ],
)
def test_parse_step_arguments_errors(tokens, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        parse_step_arguments(tokens)


def test_every_option_is_documented():
    guide = (ROOT / "docs" / "cli.md").read_text()
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in subparsers.items():
        assert f"steppe {name}" in guide
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in guide, f"{name} {option}"


def test_list_imports_plugin_modules_but_no_step_module():
    code = (
        "import sys, io\n"
        "from pipeline_core.cli.main import run_cli\n"
        "status = run_cli(['list'], stdout=io.StringIO(), stderr=sys.stderr)\n"
        "print(status, sorted(m for m in sys.modules if m.startswith('builtin_steps')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 ['builtin_steps', 'builtin_steps.plugin']"
