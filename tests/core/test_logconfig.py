"""Logging: start/end/elapsed/skip messages, logcfg files, plain logging setups."""

from __future__ import annotations

import logging
import re

import pytest

from pipeline_core.errors import ParameterError
from pipeline_core.logconfig import LOGGER_NAME, configured, read_logcfg, step_logger
from tests.fixtures.core import AddStep, TwoStepPipeline

pytestmark = pytest.mark.usefixtures("core_steps")


def write_cfg(path, text):
    path.write_text(text)
    return str(path)


def test_every_step_logs_start_end_and_elapsed(caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        TwoStepPipeline.call(1.0, steps={"scale": {"skip": True}})
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    names = [name for name, _ in messages]
    assert names[0] == "steppe.two_step" and names[-1] == "steppe.two_step"
    text = "\n".join(m for _, m in messages)
    assert "Step two_step running on float" in text
    assert "Step add running on float" in text
    assert "Step scale skipped." in text
    for step in ("add", "scale", "two_step"):
        assert re.search(rf"Step {step} done in \d+\.\d{{3}} s", text)


def test_failures_are_logged(caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        with pytest.raises(TypeError):
            AddStep.call("text-is-not-a-path".encode())
    assert re.search(r"Step add failed after \d+\.\d{3} s", caplog.text)


def test_logcfg_sends_the_run_log_to_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = write_cfg(tmp_path / "log.cfg", "[*]\nhandler = file:run.log\nlevel = INFO\n")
    logger = logging.getLogger(LOGGER_NAME)
    handlers_before, level_before = list(logger.handlers), logger.level
    root_before = list(logging.getLogger().handlers)
    assert AddStep.call(1.0, logcfg=cfg) == 2.0
    log = (tmp_path / "run.log").read_text()
    assert "steppe.add - INFO - Step add running on float" in log
    assert re.search(r"Step add done in \d+\.\d{3} s", log)
    # the configuration is undone after the run, and the root logger is untouched
    assert logger.handlers == handlers_before and logger.level == level_before
    assert logging.getLogger().handlers == root_before
    AddStep.call(1.0)
    assert (tmp_path / "run.log").read_text() == log


def test_logcfg_sections_select_steps_and_levels(tmp_path):
    only_scale = tmp_path / "scale.log"
    errors = tmp_path / "errors.log"
    cfg = write_cfg(
        tmp_path / "log.cfg",
        f"[scale]\nhandler = append:{only_scale}\nlevel = INFO\nformat = %(name)s|%(message)s\n\n"
        f"[*]\nhandler = file:{errors}\nlevel = ERROR\n",
    )
    TwoStepPipeline.call(1.0, logcfg=cfg)
    lines = only_scale.read_text().splitlines()
    assert lines[0] == "steppe.scale|Step scale running on float"
    assert all(line.startswith("steppe.scale|") for line in lines)
    assert errors.read_text() == ""


def test_plain_logging_setup_keeps_working(caplog):
    caplog.set_level(logging.INFO)
    AddStep.call(1.0)
    assert any(r.name == "steppe.add" and "running" in r.getMessage() for r in caplog.records)


def test_step_logger_name():
    assert step_logger("jump").name == "steppe.jump"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[*]\nlevel = LOUD\n", "level = 'LOUD' is not a logging level"),
        ("[*]\nhandler = socket:1\n", "handler 'socket:1' is not understood"),
        ("[*]\nhandler = file:\n", "handler 'file:' is not understood"),
        ("[*]\ncolour = red\n", "unknown keys ['colour']; accepted: handler, level, format"),
        ("no section\n", "cannot be parsed"),
    ],
)
def test_bad_logcfg_files_are_clear_errors(tmp_path, text, message):
    cfg = write_cfg(tmp_path / "log.cfg", text)
    with pytest.raises(ParameterError, match=re.escape(message)) as info:
        read_logcfg(cfg)
    assert str(cfg) in str(info.value)


def test_missing_logcfg_file(tmp_path):
    with pytest.raises(ParameterError, match="logcfg file .* does not exist"):
        AddStep.call(1.0, logcfg=tmp_path / "nope.cfg")


def test_configured_with_none_changes_nothing():
    logger = logging.getLogger(LOGGER_NAME)
    before = list(logger.handlers)
    with configured(None) as handlers:
        assert handlers == [] and logger.handlers == before


def test_numeric_level_and_stream_handlers(tmp_path, capsys):
    cfg = write_cfg(tmp_path / "log.cfg", "[add]\nhandler = stdout, stderr\nlevel = 20\nformat = %(message)s\n")
    rules = read_logcfg(cfg)
    assert rules[0].handlers == ("stdout", "stderr") and rules[0].level == 20
    AddStep.call(1.0, logcfg=cfg)
    captured = capsys.readouterr()
    assert "Step add running on float" in captured.out
    assert "Step add running on float" in captured.err
