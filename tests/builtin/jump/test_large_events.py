"""JumpStep with snowballs and showers, thresholds by ramp length, serial and parallel."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from builtin_steps.jump.step import JumpStep
from pipeline_core.errors import ParameterError, StepError
from tests.fixtures.ramps import make_ramps, ramp_model, write_gain_readnoise

DNU, SAT, JUMP = 1, 2, 4
CENTRE = (32, 30)


def _radius(shape=(64, 64), centre=CENTRE):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.hypot(yy - centre[0], xx - centre[1])


@pytest.fixture
def snowball(tmp_path):
    """Two integrations; in the first a snowball hits at group 4: a 2000 DN jump within
    7 pixels of CENTRE, around a core of radius 3 that saturates."""
    ramps = make_ramps(shape=(2, 8, 64, 64), rate=5.0, seed=71)
    r = _radius()
    ramps.data[0, 4:][:, r <= 7] += np.float32(2000.0)
    ramps.groupdq[0, 4:][:, r <= 3] |= SAT
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    return ramps, ramp_model(ramps), refs


@pytest.fixture
def shower(tmp_path):
    """A MIRI ramp with a faint disc (2 sigma per pixel, radius 12) appearing at group 8."""
    ramps = make_ramps(shape=(1, 20, 96, 96), rate=1.0, group_time=2.775, seed=72)
    ramps.data[0, 8:][:, _radius((96, 96), (48, 45)) <= 12] += np.float32(20.0)
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    model = ramp_model(ramps)
    model.meta.instrument.name = "MIRI"
    model.meta.instrument.detector = "MIRIMAGE"
    model.meta.exposure.type = "MIR_IMAGE"
    return ramps, model, refs


def _moment_axis(mask):
    """Full axis of the moment ellipse of a round region (as JWST measures it)."""
    rows, _ = np.nonzero(mask)
    return 4.0 * np.sqrt(np.var(rows)) - 1.0


def test_snowball_flags_the_expanded_circle_and_little_else(snowball):
    ramps, model, refs = snowball
    plain = JumpStep(**refs).run(model)
    result = JumpStep(expand_large_events=True, **refs).run(model)
    r = _radius()
    detected = (plain.groupdq[0, 4] & JUMP) != 0
    # the two-point detection finds the jump ring 3 < r <= 7 and its neighbours
    assert r[detected].max() == pytest.approx(8.0, abs=0.2)
    # its moment ellipse (a circle) enlarged by expand_factor=2: a half-axis of ~16 pixels
    radius = round(2 * _moment_axis(detected) / 2)
    assert radius == 16
    flagged = (result.groupdq[0, 4] & (JUMP | SAT)) != 0
    np.testing.assert_array_equal(flagged, (r < radius) | (plain.groupdq[0, 4] != 0))
    # the core r <= 3 (axis 5.1 > min_sat_radius_extend) grows by 2 x sat_expand: half-axis 5
    for group in range(4, 8):
        np.testing.assert_array_equal((result.groupdq[0, group] & SAT) != 0, r < 5)
    assert not np.any(result.groupdq[0, 5:] & JUMP & ~plain.groupdq[0, 5:])
    # the core (its own ellipse, half-axis 3) is masked in groups 1.. of the next
    # integration (4000 s cover them all)
    core = r < 3
    assert np.all(result.groupdq[1, 1:][:, core] & JUMP)
    added = (result.groupdq[1] & JUMP) & ~(plain.groupdq[1] & JUMP)
    assert not np.any(added[:, ~core]) and not np.any(added[0])
    # one extended event per 1e6 s per pixel over the usable groups
    rate = 1e6 * 1 / (ramps.group_time * (2 * 8 - 2) * 64 * 64)
    assert result.meta.exposure.extended_emission_events == pytest.approx(rate)
    assert plain.meta.exposure.extended_emission_events == 0.0
    assert result.meta.exposure.primary_cosmic_rays == plain.meta.exposure.primary_cosmic_rays


def test_snowball_next_integration_masking_can_be_off(snowball):
    _, model, refs = snowball
    plain = JumpStep(**refs).run(model)
    result = JumpStep(expand_large_events=True, mask_snowball_core_next_int=False, **refs).run(model)
    np.testing.assert_array_equal(result.groupdq[1], plain.groupdq[1])
    short = JumpStep(expand_large_events=True, snowball_time_masked_next_int=30, **refs).run(model)
    added = (short.groupdq[1] & JUMP) & ~(plain.groupdq[1] & JUMP)  # 30 s // 10.737 s = 2 groups
    assert np.flatnonzero(added.any(axis=(1, 2))).tolist() == [1]


def test_shower_on_a_miri_ramp(shower):
    _, model, refs = shower
    plain = JumpStep(**refs).run(model)
    result = JumpStep(find_showers=True, **refs).run(model)
    r = _radius((96, 96), (48, 45))
    added = ((result.groupdq[0] & JUMP) != 0) & ((plain.groupdq[0] & JUMP) == 0)
    flagged = (result.groupdq[0] & JUMP) != 0
    for group in range(20):
        if 8 <= group <= 13:  # time_masked_after_shower=15 s: 5 groups after the shower
            assert np.all(flagged[group][r <= 11])
            assert not np.any(added[group][r > 17])
        else:
            assert not np.any(added[group])
    assert result.meta.exposure.extended_emission_events > 0


@pytest.mark.usefixtures("at_least_two_cpus", "no_shared_memory_leaks")
def test_serial_and_parallel_are_identical(snowball, shower):
    # detection runs in blocks of rows on two processes, snowballs and showers on the full frame
    for (_, model, refs), feature in ((snowball, "expand_large_events"), (shower, "find_showers")):
        serial = JumpStep(**{feature: True}, **refs).run(model)
        parallel = JumpStep(maximum_cores="2", **{feature: True}, **refs).run(model)
        np.testing.assert_array_equal(serial.groupdq, parallel.groupdq)
        np.testing.assert_array_equal(serial.pixeldq, parallel.pixeldq)
        events = serial.meta.exposure.extended_emission_events
        assert events > 0 and parallel.meta.exposure.extended_emission_events == events


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"expand_large_events": True, "expand_factor": 0.0}, "expand_factor"),
        ({"expand_large_events": True, "max_extended_radius": -1}, "max_extended_radius"),
        ({"find_showers": True, "extend_outer_radius": 0.0}, "extend_outer_radius"),
        ({"find_showers": True, "extend_inner_radius": -1.0}, "extend_inner_radius"),
    ],
)
def test_bad_large_event_parameters(snowball, params, name):
    _, model, refs = snowball
    with pytest.raises(ParameterError, match=f"parameter {name}="):
        JumpStep(**params, **refs).run(model)


def test_large_events_need_the_group_time(snowball):
    _, model, refs = snowball
    model.meta.exposure.group_time = None
    with pytest.raises(StepError, match="meta.exposure.group_time is None"):
        JumpStep(expand_large_events=True, **refs).run(model)


def test_use_ellipses_is_deprecated_and_has_no_effect(snowball, caplog):
    _, model, refs = snowball
    reference = JumpStep(expand_large_events=True, **refs).run(model)
    with caplog.at_level(logging.WARNING):
        result = JumpStep(expand_large_events=True, use_ellipses=True, **refs).run(model)
    assert "use_ellipses is deprecated" in caplog.text
    np.testing.assert_array_equal(result.groupdq, reference.groupdq)


@pytest.mark.parametrize(
    ("ngroups", "name", "default"),
    [(3, "three_group_rejection_threshold", 6.0), (4, "four_group_rejection_threshold", 5.0)],
)
def test_short_ramps_use_their_own_threshold(tmp_path, ngroups, name, default):
    # no signal, read noise 10 DN per difference: jumps of 4.5, 5.5 and 7 sigma in the last group
    ramps = make_ramps(shape=(1, ngroups, 1, 3), rate=0.0, readnoise=10.0, gain=1.0, seed=73)
    ramps.data[:] = 0.0
    ramps.data[0, -1, 0] = [45.0, 55.0, 70.0]
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    model = ramp_model(ramps)
    expected = {6.0: [False, False, True], 5.0: [False, True, True]}[default]
    result = JumpStep(flag_4_neighbors=False, **refs).run(model)
    assert ((result.groupdq[0, -1, 0] & JUMP) != 0).tolist() == expected
    # the general threshold does not apply to these ramps
    result = JumpStep(flag_4_neighbors=False, rejection_threshold=100.0, **refs).run(model)
    assert ((result.groupdq[0, -1, 0] & JUMP) != 0).tolist() == expected
    result = JumpStep(flag_4_neighbors=False, **{name: 4.0}, **refs).run(model)
    assert ((result.groupdq[0, -1, 0] & JUMP) != 0).tolist() == [True, True, True]


def test_minimum_groups_skips_detection(snowball):
    _, model, refs = snowball
    result = JumpStep(minimum_groups=9, **refs).run(model)  # 8 groups usable
    assert not np.any(result.groupdq & JUMP)
    assert result.meta.exposure.primary_cosmic_rays == 0.0
    # snowball flagging still runs on the flags as they are: the saturated core is grown
    result = JumpStep(minimum_groups=9, expand_large_events=True, **refs).run(model)
    assert np.array_equal((result.groupdq[0, 4] & SAT) != 0, _radius() < 5)
