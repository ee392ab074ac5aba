"""steppe's default console: INFO on stderr as stpipe prints it, unless logging is configured.

pytest puts a handler on the root logger while a test runs, which (correctly)
counts as "logging configured"; the tests of the default remove it for their
duration, and one test runs in a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_core import logconfig
from pipeline_core.cli.main import run_cli
from pipeline_core.errors import ParameterError
from tests.fixtures.core import AddStep, TwoStepPipeline

REPO = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - steppe\.add - INFO - Step add running on float$")

pytestmark = pytest.mark.usefixtures("core_steps")


@pytest.fixture
def unconfigured(monkeypatch):
    """Return a context manager: within it, no handler on the root logger (pytest's is set
    aside) nor on the steppe logger, as in a fresh interpreter."""
    steppe = logging.getLogger("steppe")
    monkeypatch.setattr(steppe, "handlers", [])
    monkeypatch.setattr(steppe, "level", logging.NOTSET)
    monkeypatch.delenv(logconfig.LEVEL_ENV, raising=False)
    logconfig.enable_default_logging()

    @contextlib.contextmanager
    def bare():
        root = logging.getLogger()
        kept = root.handlers
        root.handlers = []
        try:
            yield
        finally:
            root.handlers = kept

    yield bare
    logconfig.enable_default_logging()


def _lines(text: str, fragment: str) -> list[str]:
    return [line for line in text.splitlines() if fragment in line]


def test_a_fresh_interpreter_prints_info_to_stderr_and_leaves_the_root_logger_alone():
    program = (
        "import logging\n"
        "from tests.fixtures.core import AddStep\n"
        "assert AddStep.call(1.0) == 2.0\n"
        "print(len(logging.getLogger().handlers), len(logging.getLogger('steppe').handlers),"
        " logging.getLogger('steppe').level, logging.getLogger().level)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop(logconfig.LEVEL_ENV, None)
    done = subprocess.run([sys.executable, "-W", "error", "-c", program], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert LINE.match(lines[0]), lines
    assert re.search(r" - steppe\.add - INFO - Step add done in \d+\.\d{3} s$", lines[-1])
    assert done.stdout.split() == ["0", "0", "0", str(logging.WARNING)]  # nothing left configured


def test_call_prints_each_message_once_even_when_nested(unconfigured, capsys):
    class Outer(AddStep):
        class_alias = "outer"

        def process(self, data):
            return AddStep.call(TwoStepPipeline.call(data))  # calls inside a call

    with unconfigured():
        Outer.call(1.0)
    err = capsys.readouterr().err
    assert len(_lines(err, "Step outer running")) == 1
    assert len(_lines(err, "steppe.add - INFO - Step add running")) == 2  # two different runs
    assert len(_lines(err, "Step two_step done in")) == 1
    assert logging.getLogger("steppe").handlers == []
    assert logging.getLogger("steppe").level == logging.NOTSET


@pytest.mark.parametrize(
    "configure",
    [
        lambda: logging.getLogger().addHandler(logging.StreamHandler(io.StringIO())),
        lambda: logging.getLogger("steppe").addHandler(logging.NullHandler()),
        logconfig.disable_default_logging,
    ],
    ids=["root-handler", "null-handler-on-steppe", "disable_default_logging"],
)
def test_configured_logging_wins(unconfigured, capsys, configure):
    with unconfigured():
        AddStep.call(1.0)
        assert "Step add running" in capsys.readouterr().err  # the default
        configure()
        try:
            AddStep.call(1.0)
        finally:
            logging.getLogger().handlers.clear()
    assert capsys.readouterr().err == ""


def test_a_user_handler_gets_each_record_once(unconfigured, capsys):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    with unconfigured():
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        try:
            TwoStepPipeline.call(1.0)
        finally:
            logging.getLogger().setLevel(logging.WARNING)
    assert capsys.readouterr().err == ""
    assert len(_lines(stream.getvalue(), "Step add running")) == 1


def test_a_logcfg_file_wins(unconfigured, capsys, tmp_path):
    cfg = tmp_path / "log.cfg"
    cfg.write_text(f"[*]\nhandler = file:{tmp_path / 'run.log'}\nlevel = INFO\n")
    with unconfigured():
        AddStep.call(1.0, logcfg=str(cfg))
    assert capsys.readouterr().err == ""
    assert "Step add running on float" in (tmp_path / "run.log").read_text()


@pytest.mark.parametrize(
    "value, shown, hidden",
    [
        ("DEBUG", ["DEBUG - Step add parameters:", "INFO - Step add running"], []),
        ("info", ["INFO - Step add running"], ["DEBUG"]),
        ("WARNING", [], ["Step add running"]),
        ("30", [], ["Step add running"]),
        ("off", [], ["Step add"]),
    ],
)
def test_steppe_log_level(unconfigured, capsys, monkeypatch, value, shown, hidden):
    monkeypatch.setenv(logconfig.LEVEL_ENV, value)
    with unconfigured():
        AddStep.call(1.0)
    err = capsys.readouterr().err
    for text in shown:
        assert text in err
    for text in hidden:
        assert text not in err


def test_a_bad_steppe_log_level_names_the_variable_the_value_and_the_remedy(unconfigured, monkeypatch):
    monkeypatch.setenv(logconfig.LEVEL_ENV, "loud")
    with unconfigured(), pytest.raises(ParameterError) as info:
        AddStep.call(1.0)
    assert str(info.value) == (
        "environment variable STEPPE_LOG_LEVEL='loud' is not a logging level; accepted: DEBUG, "
        "INFO, WARNING, ERROR, CRITICAL, a positive number, or off. Set one of these, or unset it "
        "for INFO"
    )


def test_a_level_set_on_the_steppe_logger_is_kept(unconfigured, capsys):
    logging.getLogger("steppe").setLevel(logging.WARNING)  # the user's choice is kept
    with unconfigured():
        AddStep.call(1.0)
    assert capsys.readouterr().err == ""
    assert logging.getLogger("steppe").level == logging.WARNING


@pytest.fixture
def image(tmp_path):
    from pipeline_core.datamodels import ImageModel

    model = ImageModel((4, 4))
    path = tmp_path / "jw_cli_uncal.fits"
    model.save(str(path))
    return str(path)


@pytest.mark.parametrize(
    "args, shown, hidden",
    [
        ([], ["INFO - Step add running"], ["DEBUG"]),
        (["-q"], [], ["Step add"]),
        (["--quiet"], [], ["Step add"]),
        (["-v"], ["DEBUG - Step add parameters:"], []),
        (["--verbose"], ["DEBUG - Step add parameters:"], []),
    ],
)
@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_and_verbose_on_the_command_line(unconfigured, image, tmp_path, monkeypatch, args, shown, hidden, where):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    command = ["run", "add", image, "--output-dir", str(tmp_path / "out")]
    argv = [*args, *command] if where == "before" else [*command, *args]
    err = io.StringIO()
    with unconfigured():
        assert run_cli(argv, stdout=io.StringIO(), stderr=err) == 0
    for text in shown:
        assert text in err.getvalue()
    for text in hidden:
        assert text not in err.getvalue()


def test_the_command_line_switch_wins_over_the_environment(unconfigured, image, tmp_path, monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    monkeypatch.setenv(logconfig.LEVEL_ENV, "WARNING")
    command = ["run", "add", image, "--output-dir", str(tmp_path / "out")]
    err = io.StringIO()
    with unconfigured():
        assert run_cli(command, stdout=io.StringIO(), stderr=err) == 0
        assert err.getvalue() == ""
        assert run_cli([*command, "--verbose"], stdout=io.StringIO(), stderr=err) == 0
    assert "INFO - Step add running" in err.getvalue()


def test_quiet_and_verbose_together_is_a_usage_error(unconfigured, image):
    err = io.StringIO()
    assert run_cli(["run", "add", image, "-q", "-v"], stdout=io.StringIO(), stderr=err) == 2
    assert "not allowed with argument" in err.getvalue()
