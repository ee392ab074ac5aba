"""Snowball flagging on group flags with a known snowball (kernel level)."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.jump.snowballs import SnowballOptions, flag_snowballs

SAT, JUMP = 2, 4
SHAPE = (2, 6, 64, 64)
CENTRE = (32, 30)  # row, column: more than edge_size=25 from every edge


def _radius(centre=CENTRE):
    yy, xx = np.mgrid[: SHAPE[2], : SHAPE[3]]
    return np.hypot(yy - centre[0], xx - centre[1])


def _snowball(jump_radius=6.0, core_radius=2.0, group=3, centre=CENTRE, core_group=None):
    """Group flags with jumps in a disc and a core newly saturated in `core_group`."""
    gdq = np.zeros(SHAPE, np.uint8)
    r = _radius(centre)
    core_group = group if core_group is None else core_group
    gdq[0, group][r <= jump_radius] = JUMP
    if core_radius is not None:
        gdq[0, core_group:][:, r <= core_radius] = SAT
    return gdq


# The moment ellipses of the shapes used (full axis 4 sqrt(variance) - 1, centre (32, 30)):
# annulus 2 < r <= 6: 11.67; disc r <= 6: 11.01; core r <= 2: 3.15; plus (r <= 1): 1.53.


def test_known_snowball_is_expanded_and_its_core_grown():
    gdq = _snowball()  # jumps on the annulus 2 < r <= 6 around a core r <= 2 saturating
    count = flag_snowballs(gdq, SnowballOptions())
    assert count == 1
    r = _radius()
    expanded = r < 12  # 11.67 x expand_factor 2 = 23.3: half-axis 12
    grown_core = r < 4  # 3.15 > min_sat_radius_extend; + 2 x sat_expand = 7.15: half-axis 4
    np.testing.assert_array_equal((gdq[0, 3] & JUMP) != 0, expanded & ~grown_core)
    for group in range(3, 6):  # the grown core is saturated (not a jump) from the snowball on
        np.testing.assert_array_equal((gdq[0, group] & SAT) != 0, grown_core)
    assert not np.any(gdq[0, :3])  # earlier groups untouched
    assert not np.any(gdq[0, 4:] & JUMP)  # only the snowball's group is expanded


def test_the_core_is_flagged_in_the_next_integration():
    gdq = _snowball()
    flag_snowballs(gdq, SnowballOptions(core_groups_next_int=4))
    core = _radius() < 2  # the core's own ellipse: 3.15, half-axis 2
    for group in range(6):
        expected = core if 1 <= group < 4 else np.zeros_like(core)
        np.testing.assert_array_equal((gdq[1, group] & JUMP) != 0, expected, err_msg=str(group))
    # groups beyond the integration are cut: all but the first group
    gdq = _snowball()
    flag_snowballs(gdq, SnowballOptions(core_groups_next_int=400))
    assert np.all(gdq[1, 1:][:, core] & JUMP) and not np.any(gdq[1, 0] & JUMP)
    gdq = _snowball()
    flag_snowballs(gdq, SnowballOptions(core_groups_next_int=0))
    assert not np.any(gdq[1])


def test_a_small_core_is_not_grown():
    gdq = _snowball(core_radius=1.0)  # a plus: minor axis 1.53 <= min_sat_radius_extend
    flag_snowballs(gdq, SnowballOptions(core_groups_next_int=10))
    np.testing.assert_array_equal((gdq[0, 3] & SAT) != 0, _radius() <= 1.0)
    assert np.count_nonzero(gdq[0, 3] & JUMP) > 300  # still a snowball
    assert not np.any(gdq[1])  # no grown core, nothing to remember


def test_saturated_core_required():
    no_core = _snowball(core_radius=None)  # jumps on the disc r <= 6
    unchanged = no_core.copy()
    assert flag_snowballs(no_core, SnowballOptions()) == 0
    np.testing.assert_array_equal(no_core, unchanged)
    # without the requirement any large jump area is a snowball (and no core is grown)
    assert flag_snowballs(no_core, SnowballOptions(sat_required_snowball=False)) == 1
    np.testing.assert_array_equal((no_core[0, 3] & JUMP) != 0, _radius() < 11)  # 11.01 x 2


def test_core_saturating_in_the_next_group_counts():
    gdq = _snowball(core_group=4)
    assert flag_snowballs(gdq, SnowballOptions()) == 1
    np.testing.assert_array_equal((gdq[0, 3] & JUMP) != 0, _radius() < 11)


def test_a_core_far_away_does_not_make_a_snowball():
    gdq = _snowball(core_radius=None)
    far = _radius((32, 50)) <= 2  # 20 pixels away: outside the jump ellipse (half-axes 5.5)
    gdq[0, 3:][:, far] = SAT
    before = np.count_nonzero(gdq[0, 3] & JUMP)
    assert flag_snowballs(gdq, SnowballOptions()) == 0
    assert np.count_nonzero(gdq[0, 3] & JUMP) == before


def test_near_the_edge_no_core_is_needed():
    centre = (10, 30)  # 10 rows from the edge, within edge_size
    gdq = _snowball(core_radius=None, centre=centre)
    assert flag_snowballs(gdq, SnowballOptions()) == 1
    np.testing.assert_array_equal((gdq[0, 3] & JUMP) != 0, _radius(centre) < 11)
    gdq = _snowball(core_radius=None, centre=centre)
    assert flag_snowballs(gdq, SnowballOptions(edge_size=5)) == 0


def test_small_jump_areas_are_left_alone():
    gdq = _snowball(jump_radius=1.0, core_radius=None)  # a plus: 5 pixels
    before = gdq.copy()
    options = SnowballOptions(sat_required_snowball=False, expand_factor=3.0, min_jump_area=6.0)
    assert flag_snowballs(gdq, options) == 0
    np.testing.assert_array_equal(gdq, before)
    assert flag_snowballs(gdq, SnowballOptions(sat_required_snowball=False, expand_factor=3.0)) == 1
    np.testing.assert_array_equal((gdq[0, 3] & JUMP) != 0, _radius() < 2)  # 1.53 x 3: half-axis 2


@pytest.mark.parametrize(("factor", "radius"), [(1.5, 8), (3.0, 17)])
def test_expand_factor(factor, radius):
    gdq = _snowball(core_radius=None)
    flag_snowballs(gdq, SnowballOptions(sat_required_snowball=False, expand_factor=factor))
    np.testing.assert_array_equal((gdq[0, 3] & JUMP) != 0, _radius() < radius)


def test_max_extended_radius_caps_the_expansion():
    gdq = _snowball(core_radius=None)
    flag_snowballs(gdq, SnowballOptions(sat_required_snowball=False, max_extended_radius=8))
    np.testing.assert_array_equal((gdq[0, 3] & JUMP) != 0, _radius() < 8)


def test_saturated_pixels_are_not_flagged_and_other_bits_kept():
    gdq = _snowball(core_radius=None)
    gdq[0, 3, 32, 40] = SAT  # one saturated pixel inside the expanded area
    gdq[0, 3, 32, 20] = 1  # DO_NOT_USE
    flag_snowballs(gdq, SnowballOptions(sat_required_snowball=False))
    assert gdq[0, 3, 32, 40] == SAT and gdq[0, 3, 32, 21] == JUMP and gdq[0, 3, 32, 20] == 1 | JUMP
