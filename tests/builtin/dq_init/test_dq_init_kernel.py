"""Tests of the DQ-initialisation kernel."""

import numpy as np

from builtin_steps.dq_init.mask import apply_mask


def test_mask_ored_into_pixeldq_and_do_not_use_into_groups():
    pdq = np.array([[2, 0], [0, 0]], np.uint32)
    gdq = np.zeros((1, 2, 2, 2), np.uint8)
    mask = np.array([[1024, 1 | 1024], [0, 1 << 31]], np.uint32)
    apply_mask(pdq, gdq, mask, user_dq=np.array([[0, 0], [8, 0]]))
    assert pdq.tolist() == [[1026, 1025], [8, 1 << 31]]
    assert gdq[0, :, 0, 1].tolist() == [1, 1]
    assert gdq.sum() == 2
