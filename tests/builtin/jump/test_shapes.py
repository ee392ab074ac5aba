"""Region areas, moment ellipses and ellipse drawing used by snowballs and showers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from builtin_steps.jump.shapes import Ellipse, ellipse_pixels, expanded_axes, filled_areas, fit_ellipses


def _disc(shape, centre, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.hypot(yy - centre[0], xx - centre[1]) <= radius


def _areas(mask):
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    return filled_areas(labels, count)[1:].tolist()


def test_filled_areas_count_pixels_and_holes():
    mask = np.zeros((20, 30), bool)
    mask[2, 2] = True  # one pixel
    mask[5:9, 3:13] = True  # 4 x 10 block
    mask[12:19, 20:27] = True  # 7 x 7 square ...
    mask[14:17, 22:25] = False  # ... with a 3 x 3 hole
    mask[15, 23] = True  # ... and an island in the hole (its own region)
    assert _areas(mask) == [1, 40, 49, 1]
    # a 5 x 5 ring around a 3 x 3 hole: 16 + 9
    ring = np.zeros((9, 9), bool)
    ring[2:7, 2:7] = True
    ring[3:6, 3:6] = False
    assert _areas(ring) == [25]
    # without its corner the hole touches the outside on a diagonal: the background is
    # 8-connected, so it is no longer a hole
    ring[2, 2] = False
    assert _areas(ring) == [15]


def test_min_area_keeps_regions_at_the_limit():
    mask = np.zeros((12, 12), bool)
    mask[5, 4:7] = True
    mask[4, 5] = mask[6, 5] = True  # a plus: a jump and its four neighbours, 5 pixels
    assert len(fit_ellipses(mask, 5.0)) == 1
    assert fit_ellipses(mask, 5.5) == []
    assert fit_ellipses(np.zeros((5, 5)), 0.0) == []


def test_disc_ellipse():
    mask = _disc((40, 50), (17, 31), 6)
    (found,) = fit_ellipses(mask, 5.0)
    assert (found.x, found.y) == pytest.approx((31.0, 17.0))
    rows, _ = np.nonzero(mask)
    expected = 4.0 * np.sqrt(np.var(rows)) - 1.0  # the moment ellipse, less a pixel
    assert found.major == pytest.approx(expected) and found.minor == pytest.approx(expected)
    assert found.major == pytest.approx(11.0, abs=0.1)


def test_rotated_ellipse_axes_and_orientation():
    yy, xx = np.mgrid[:60, :60]
    angle = np.deg2rad(30.0)  # major axis 30 degrees from the columns towards the rows
    u = (xx - 30) * np.cos(angle) + (yy - 28) * np.sin(angle)
    v = -(xx - 30) * np.sin(angle) + (yy - 28) * np.cos(angle)
    mask = (u / 15.0) ** 2 + (v / 5.0) ** 2 <= 1.0
    (found,) = fit_ellipses(mask, 5.0)
    assert (found.x, found.y) == pytest.approx((30.0, 28.0), abs=0.05)
    # orientation is measured from the rows: 90 - 30 degrees
    assert np.rad2deg(found.orientation) == pytest.approx(60.0, abs=0.5)
    assert found.major == pytest.approx(29.0, abs=0.6) and found.minor == pytest.approx(9.0, abs=0.6)


def test_expanded_axes():
    circle = Ellipse(0.0, 0.0, 10.0, 10.0, 0.0)
    assert expanded_axes(circle, 2.0, 400.0) == (20.0, 20.0)
    # both axes grow by (factor - 1) times the minor axis
    assert expanded_axes(Ellipse(0.0, 0.0, 20.0, 6.0, 0.3), 2.0, 400.0) == (26.0, 12.0)
    assert expanded_axes(circle, 2.0, 14.0) == (14.0, 14.0)  # capped
    assert expanded_axes(Ellipse(0.0, 0.0, 9.0, 9.0, 0.0), 1.1, 400.0) == (10.0, 10.0)  # even


def test_ellipse_pixels_of_a_circle_and_at_the_edge():
    rows, cols = ellipse_pixels(Ellipse(20.2, 14.8, 10.0, 10.0, 0.7), (40, 40))
    drawn = np.zeros((40, 40), bool)
    drawn[rows, cols] = True
    # centre rounded, pixel centres strictly inside the radius
    np.testing.assert_array_equal(drawn, _disc((40, 40), (15, 20), 4.999))
    rows, cols = ellipse_pixels(Ellipse(1.0, 1.0, 10.0, 10.0, 0.0), (40, 40))
    drawn = np.zeros((40, 40), bool)
    drawn[rows, cols] = True
    np.testing.assert_array_equal(drawn, _disc((40, 40), (1, 1), 4.999))
    assert ellipse_pixels(Ellipse(-30.0, -30.0, 10.0, 10.0, 0.0), (40, 40))[0].size == 0
    assert ellipse_pixels(Ellipse(20.0, 20.0, 10.0, 0.9, 0.0), (40, 40))[0].size == 0  # half-axis 0


def test_ellipse_pixels_rotated_and_with_other_axes():
    along_rows = Ellipse(20.0, 20.0, 16.0, 4.0, 0.0)  # orientation 0: major axis along the rows
    rows, cols = ellipse_pixels(along_rows, (40, 40))
    assert rows.max() - rows.min() == 14 and cols.max() - cols.min() == 2
    along_cols = along_rows._replace(orientation=np.pi / 2)
    rows, cols = ellipse_pixels(along_cols, (40, 40))
    assert rows.max() - rows.min() == 2 and cols.max() - cols.min() == 14
    rows, cols = ellipse_pixels(along_rows, (40, 40), axes=(8.0, 8.0))
    assert rows.max() - rows.min() == 6 and cols.max() - cols.min() == 6
