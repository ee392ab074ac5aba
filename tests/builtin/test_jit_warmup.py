"""Loading the compiled kernels ahead of use (builtin_steps._jit.warm_up_in_background)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from builtin_steps._jit import warm_up_in_background
from builtin_steps.jump import blocks
from builtin_steps.jump.twopoint_compiled import search_block
from builtin_steps.ramp_fit import ols
from builtin_steps.ramp_fit.ols_clean import fit_clean_pixels
from builtin_steps.ramp_fit.step_support import flag_persistence, group_flags_union


def test_warm_up_loads_the_types_the_steps_use():
    thread = warm_up_in_background(["builtin_steps.jump.blocks:warm_up", "builtin_steps.ramp_fit.ols:warm_up"])
    thread.join(timeout=120)
    assert not thread.is_alive()
    loaded = {kernel: set(kernel.compiled().signatures) for kernel in (search_block, fit_clean_pixels)}
    assert all(loaded.values())
    # the step's blocks are rows of the ramp: whole arrays, and bands of rows (views)
    rng = np.random.default_rng(5)
    ramp = np.cumsum(rng.normal(20, 3, (2, 4, 6, 5)), axis=1).astype(np.float32)
    flags = np.zeros(ramp.shape, np.uint8)
    pixels = np.zeros((6, 5), np.uint32)
    ones = np.ones((6, 5), np.float32)
    for rows in (slice(None), slice(1, 4)):
        blocks.detect_jumps_in_block(ramp[:, :, rows], flags[:, :, rows], pixels[rows], ones[rows], ones[rows])
        out = ols.allocate_outputs(2, 6, 5)
        ols.fit_ramps(ramp[:, :, rows], flags[:, :, rows], pixels[rows], ones[rows], ones[rows],
                      group_time=10.0, frame_time=10.0, nframes=1,
                      out={name: array[..., rows, :] for name, array in out.items()})
    # nothing new was compiled: the warm-up had loaded every signature the calls use
    assert {kernel: set(kernel.compiled().signatures) for kernel in loaded} == loaded


def test_warm_up_results_equal_a_plain_call():
    # the kernels give the same flags and rates after a warm-up as on first use
    rng = np.random.default_rng(3)
    ramp = np.cumsum(rng.normal(20, 3, (1, 5, 4, 4)), axis=1).astype(np.float32)
    ramp[0, 3:, 1, 2] += 400.0
    flags = np.zeros(ramp.shape, np.uint8)
    flags[0, 4, 0, 0] = 2  # saturated
    ramp[0, 2, 3, 3] = np.nan
    ones = np.ones((4, 4), np.float32)
    before = blocks.detect_jumps_in_block(ramp, flags, np.zeros((4, 4), np.uint32), ones, ones)
    blocks.warm_up()
    ols.warm_up()
    after = blocks.detect_jumps_in_block(ramp, flags, np.zeros((4, 4), np.uint32), ones, ones)
    assert before["groupdq"][0, 3, 1, 2] & 4
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])


def test_failing_warm_up_is_ignored(caplog):
    with caplog.at_level(logging.DEBUG, logger="steppe.jit"):
        thread = warm_up_in_background(["builtin_steps.jump.blocks:no_such_function", "no_such_module:f"])
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert "no_such_function" in caplog.text and "no_such_module" in caplog.text


@pytest.mark.parametrize("bits", [0, 32, 128, 32 | 4])
def test_group_flags_union_and_persistence(bits):
    rng = np.random.default_rng(bits)
    groupdq = np.zeros((2, 3, 4, 5), np.uint8)
    groupdq[rng.integers(0, 2, 6), rng.integers(0, 3, 6), rng.integers(0, 4, 6), rng.integers(0, 5, 6)] = bits
    union = group_flags_union(groupdq)
    np.testing.assert_array_equal(union, np.bitwise_or.reduce(groupdq, axis=1))
    products = {"ints_dq": np.ones((2, 4, 5), np.uint32), "rate_dq": np.ones((4, 5), np.uint32)}
    flag_persistence(products, groupdq)
    persistent = (groupdq & 32).any(axis=1)
    np.testing.assert_array_equal(products["ints_dq"], np.where(persistent, 33, 1))
    np.testing.assert_array_equal(products["rate_dq"], np.where(persistent.any(axis=0), 33, 1))
