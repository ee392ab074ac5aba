"""DQ flag names and bit values (JWST definitions) and the mask helpers."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline_core.datamodels import dqflags
from pipeline_core.errors import DataModelError

JWST_PIXEL_BITS = [
    "DO_NOT_USE", "SATURATED", "JUMP_DET", "DROPOUT", "OUTLIER", "PERSISTENCE", "AD_FLOOR",
    "CHARGELOSS", "UNRELIABLE_ERROR", "NON_SCIENCE", "DEAD", "HOT", "WARM", "LOW_QE", "RC",
    "TELEGRAPH", "NONLINEAR", "BAD_REF_PIXEL", "NO_FLAT_FIELD", "NO_GAIN_VALUE", "NO_LIN_CORR",
    "NO_SAT_CHECK", "UNRELIABLE_BIAS", "UNRELIABLE_DARK", "UNRELIABLE_SLOPE", "UNRELIABLE_FLAT",
    "OPEN", "ADJ_OPEN", "FLUX_ESTIMATED", "MSA_FAILED_OPEN", "OTHER_BAD_PIXEL", "REFERENCE_PIXEL",
]  # fmt: skip


def test_pixel_flags_are_the_jwst_bits():
    assert dqflags.pixel["GOOD"] == 0
    for bit, name in enumerate(JWST_PIXEL_BITS):
        assert dqflags.pixel[name] == 2**bit, name
    assert len(dqflags.pixel) == 33
    assert dqflags.pixel["REFERENCE_PIXEL"] == 2147483648
    assert np.uint32(dqflags.pixel["REFERENCE_PIXEL"]) == 2**31  # fits a uint32 DQ array


def test_group_flags():
    assert dict(dqflags.group) == {
        "GOOD": 0, "DO_NOT_USE": 1, "SATURATED": 2, "JUMP_DET": 4, "DROPOUT": 8,
        "PERSISTENCE": 32, "AD_FLOOR": 64, "CHARGELOSS": 128,
    }  # fmt: skip
    assert max(dqflags.group.values()) < 256  # fits the uint8 GROUPDQ array


def test_tables_are_read_only():
    with pytest.raises(TypeError):
        dqflags.pixel["NEW"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("names", "mask"),
    [
        (["DO_NOT_USE", "SATURATED"], 3),
        ("DO_NOT_USE+SATURATED", 3),
        ("do_not_use, jump_det", 5),
        ("DEAD | HOT", 3072),
        ("", 0),
        ([], 0),
        ("SATURATED, 1024", 1026),
        (["JUMP_DET", 8], 12),
        (5, 5),
        ("RESERVED", 256),
    ],
)
def test_dq_mask(names, mask):
    assert dqflags.dq_mask(names) == mask


def test_dq_mask_with_group_table():
    assert dqflags.dq_mask("JUMP_DET,SATURATED", flags=dqflags.group) == 6
    with pytest.raises(DataModelError, match="Unknown DQ flag name 'HOT'"):
        dqflags.dq_mask("HOT", flags=dqflags.group)


def test_dq_mask_unknown_name_lists_the_accepted_ones():
    with pytest.raises(DataModelError, match=(
            r"Unknown DQ flag name 'JUMP'. Did you mean 'JUMP_DET'\? "
            r"Accepted names: GOOD, DO_NOT_USE, SATURATED, JUMP_DET,"
        ),):
        dqflags.dq_mask("JUMP")


def test_interpret():
    assert dqflags.interpret(0) == ["GOOD"]
    assert dqflags.interpret(1027) == ["DO_NOT_USE", "SATURATED", "DEAD"]
    assert dqflags.interpret(np.uint32(2**31 + 4)) == ["JUMP_DET", "REFERENCE_PIXEL"]
    assert dqflags.interpret(2**32) == ["BIT_32"]
    assert dqflags.interpret(4 + 16, flags=dqflags.group) == ["JUMP_DET", "BIT_4"]
    with pytest.raises(DataModelError, match="DQ value -1 is negative"):
        dqflags.interpret(-1)


def test_mask_and_interpret_are_inverse():
    for value in (1, 6, 2**31 + 2**20 + 1, 2**32 - 1):
        assert dqflags.dq_mask(dqflags.interpret(value)) == value
