"""maximum_cores and the core budget: pipeline_core.parallel.rows.resolve_max_workers & co."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest

from pipeline_core.errors import ParameterError, StepError
from pipeline_core.parallel.rows import (
    BUDGET_ENV,
    available_cores,
    core_budget,
    resolve_max_workers,
    worker_budget,
)


@pytest.fixture(autouse=True)
def _no_budget_env(monkeypatch):
    monkeypatch.delenv(BUDGET_ENV, raising=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("none", 1),
        ("quarter", 2),
        ("half", 4),
        ("all", 8),
        ("ALL", 8),
        (" Half ", 4),
        ("QuArTeR", 2),
        (1, 1),
        (3, 3),
        ("3", 3),
        (" 5 ", 5),
        (np.int64(6), 6),
        (8, 8),
    ],
)
def test_resolve_on_eight_cpus(cpus, value, expected):
    cpus(8)
    assert resolve_max_workers(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("quarter", 1), ("half", 1), ("all", 2)])
def test_fractions_round_down_but_never_below_one(cpus, value, expected):
    cpus(2)
    assert resolve_max_workers(value) == expected


def test_counts_the_cpus_this_process_may_use(cpus):
    cpus(3)
    assert available_cores() == 3
    assert resolve_max_workers("all") == 3


def test_number_above_the_cpus_is_capped_and_logged(cpus, caplog):
    cpus(4)
    with caplog.at_level(logging.INFO, logger="steppe.parallel"):
        assert resolve_max_workers("16", step_name="jump") == 4
    assert caplog.messages == [
        "step 'jump': maximum_cores='16' asks for 16 worker(s); using 4 because "
        "this process may use 4 CPU(s)"
    ]


def test_none_logs_nothing(cpus, caplog):
    cpus(4)
    with caplog.at_level(logging.DEBUG, logger="steppe.parallel"):
        assert resolve_max_workers("none", step_name="jump") == 1
    assert caplog.messages == []


@pytest.mark.parametrize(
    "value", ["some", "", "0", "-2", "1.5", "2 cores", 0, -1, 1.5, 2.0, True, None, [2]]
)
def test_anything_else_is_a_parameter_error(value):
    message = (
        f"step 'jump': parameter 'maximum_cores' = {value!r} is not valid; accepted: "
        "'none', 'quarter', 'half', 'all' (any case) or a whole number of cores >= 1 "
        "(an int or a string such as '4'). Use 'none' to run on one core."
    )
    with pytest.raises(ParameterError, match=re.escape(message)):
        resolve_max_workers(value, step_name="jump")


def test_parameter_error_is_a_step_error_and_a_value_error():
    with pytest.raises(StepError):
        resolve_max_workers("many")
    with pytest.raises(ValueError, match=r"^parameter 'maximum_cores' = 'many'"):
        resolve_max_workers("many")


def test_core_budget_is_the_available_cores_inside_a_job(cpus, caplog):
    cpus(8)
    with caplog.at_level(logging.INFO, logger="steppe.parallel"):
        with core_budget(2) as budget:
            assert budget == 2
            assert worker_budget() == 2
            assert resolve_max_workers("all", step_name="ramp_fit") == 2
            assert resolve_max_workers("none") == 1
        assert resolve_max_workers("all") == 8
    assert caplog.messages == [
        "step 'ramp_fit': maximum_cores='all' asks for 8 worker(s); using 2 because "
        "this job's share of the cores is 2"
    ]


def test_core_budget_fractions_apply_to_the_share(cpus):
    cpus(8)
    with core_budget(4):
        assert resolve_max_workers("half") == 2
        assert resolve_max_workers("quarter") == 1
        assert resolve_max_workers(3) == 3
        assert resolve_max_workers(6) == 4


def test_core_budget_never_exceeds_the_cpus(cpus):
    cpus(2)
    with core_budget(16) as budget:
        assert budget == 2


def test_core_budget_nests_and_restores(cpus):
    cpus(8)
    with core_budget(4):
        with core_budget(1):
            assert worker_budget() == 1
        assert worker_budget() == 4
    assert worker_budget() == 8


@pytest.mark.parametrize("cores", [0, -1, 1.5, "2", True])
def test_core_budget_rejects_non_positive_whole_numbers(cores):
    with pytest.raises(ParameterError, match=re.escape(f"core budget {cores!r} is not")):
        with core_budget(cores):
            pass  # pragma: no cover


def test_budget_from_the_environment(cpus, monkeypatch):
    cpus(8)
    monkeypatch.setenv(BUDGET_ENV, "3")
    assert worker_budget() == 3
    assert resolve_max_workers("all") == 3


@pytest.mark.parametrize("raw", ["zero", "0", "-4", "2.5"])
def test_bad_budget_in_the_environment_is_reported(monkeypatch, raw):
    monkeypatch.setenv(BUDGET_ENV, raw)
    message = (
        f"environment variable STEPPE_CORE_BUDGET={raw!r} is not a whole number of "
        "cores >= 1; set it to the number of cores this process may use, or unset it."
    )
    with pytest.raises(ParameterError, match=re.escape(message)):
        worker_budget()
