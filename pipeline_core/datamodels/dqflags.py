"""JWST data-quality (DQ) flag definitions and helpers.

Each flag is one bit of an unsigned integer: pixel flags live in the 32-bit
``dq``/``pixeldq`` arrays, group flags in the 8-bit ``groupdq`` array of a ramp.
The names and bit values are the JWST definitions
(https://jwst-pipeline.readthedocs.io, "Data Quality Flags").

Examples
--------
>>> from pipeline_core.datamodels import dqflags
>>> dqflags.pixel["JUMP_DET"]
4
>>> dqflags.dq_mask("DO_NOT_USE+SATURATED")
3
>>> dqflags.interpret(1027)
['DO_NOT_USE', 'SATURATED', 'DEAD']
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from pipeline_core.errors import DataModelError

__all__ = ["pixel", "group", "dq_mask", "interpret", "PIXEL_ALIASES"]

_PIXEL = {
    "GOOD": 0,
    "DO_NOT_USE": 2**0,
    "SATURATED": 2**1,
    "JUMP_DET": 2**2,
    "DROPOUT": 2**3,
    "OUTLIER": 2**4,
    "PERSISTENCE": 2**5,
    "AD_FLOOR": 2**6,
    "CHARGELOSS": 2**7,
    "UNRELIABLE_ERROR": 2**8,
    "NON_SCIENCE": 2**9,
    "DEAD": 2**10,
    "HOT": 2**11,
    "WARM": 2**12,
    "LOW_QE": 2**13,
    "RC": 2**14,
    "TELEGRAPH": 2**15,
    "NONLINEAR": 2**16,
    "BAD_REF_PIXEL": 2**17,
    "NO_FLAT_FIELD": 2**18,
    "NO_GAIN_VALUE": 2**19,
    "NO_LIN_CORR": 2**20,
    "NO_SAT_CHECK": 2**21,
    "UNRELIABLE_BIAS": 2**22,
    "UNRELIABLE_DARK": 2**23,
    "UNRELIABLE_SLOPE": 2**24,
    "UNRELIABLE_FLAT": 2**25,
    "OPEN": 2**26,
    "ADJ_OPEN": 2**27,
    "FLUX_ESTIMATED": 2**28,
    "MSA_FAILED_OPEN": 2**29,
    "OTHER_BAD_PIXEL": 2**30,
    "REFERENCE_PIXEL": 2**31,
}

#: Pixel flags: name -> bit value (``GOOD`` is 0, no bit set).
pixel: Mapping[str, int] = MappingProxyType(_PIXEL)

#: Group flags (the ``groupdq`` array of a ramp): name -> bit value.
group: Mapping[str, int] = MappingProxyType(
    {
        name: _PIXEL[name]
        for name in (
            "GOOD",
            "DO_NOT_USE",
            "SATURATED",
            "JUMP_DET",
            "DROPOUT",
            "PERSISTENCE",
            "AD_FLOOR",
            "CHARGELOSS",
        )
    }
)

#: Other spellings accepted by :func:`dq_mask` for a pixel flag. Recent JWST
#: releases call bit 8 ``RESERVED``; older ones ``UNRELIABLE_ERROR``.
PIXEL_ALIASES: Mapping[str, str] = MappingProxyType({"RESERVED": "UNRELIABLE_ERROR"})

_SEPARATORS = re.compile(r"[,+|\s]+")


def dq_mask(names: str | Iterable[str] | int, *, flags: Mapping[str, int] | None = None) -> int:
    """Combine flag names into one bit mask.

    Parameters
    ----------
    names : str, iterable of str or int
        Flag names (any case), either as an iterable or as one string separated by
        commas, ``+``, ``|`` or spaces (``"DO_NOT_USE+SATURATED"``). Integers and
        numeric strings are taken as bit values as they are.
    flags : mapping, optional
        The name -> value table to use; the pixel flags (:data:`pixel`) by default.

    Returns
    -------
    int
        The bitwise OR of the named flags (0 for an empty selection).

    Raises
    ------
    DataModelError
        If a name is not a known flag; the message lists the accepted names.

    Examples
    --------
    >>> dq_mask(["DO_NOT_USE", "jump_det"])
    5
    >>> dq_mask("SATURATED, 1024")
    1026
    """
    table = pixel if flags is None else flags
    if isinstance(names, int):
        return int(names)
    items = _SEPARATORS.split(names) if isinstance(names, str) else list(names)
    mask = 0
    for item in items:
        if isinstance(item, int):
            mask |= int(item)
            continue
        key = str(item).strip().upper()
        if not key:
            continue
        if key.isdigit():
            mask |= int(key)
            continue
        key = PIXEL_ALIASES.get(key, key) if flags is None else key
        if key not in table:
            close = difflib.get_close_matches(key, list(table), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataModelError(
                f"Unknown DQ flag name {item!r}.{hint} Accepted names: {', '.join(table)}. "
                "Use one of these names or an integer bit value."
            )
        mask |= table[key]
    return mask


def interpret(value: int, *, flags: Mapping[str, int] | None = None) -> list[str]:
    """List the names of the flags set in a DQ value.

    Parameters
    ----------
    value : int
        A DQ value (one pixel of a ``dq`` array, or any combination of bits).
    flags : mapping, optional
        The name -> value table to use; the pixel flags (:data:`pixel`) by default.

    Returns
    -------
    list of str
        Names of the set bits, lowest bit first; ``["GOOD"]`` for 0. Bits that
        have no name are reported as ``"BIT_<n>"``.

    Examples
    --------
    >>> interpret(0)
    ['GOOD']
    >>> interpret(4 + 2**31)
    ['JUMP_DET', 'REFERENCE_PIXEL']
    """
    table = pixel if flags is None else flags
    value = int(value)
    if value < 0:
        raise DataModelError(
            f"DQ value {value} is negative; DQ values are unsigned integers. "
            "Pass the value of a uint8/uint32 DQ array."
        )
    if value == 0:
        return ["GOOD"]
    by_value = {bit: name for name, bit in table.items() if bit}
    names = []
    bit = 0
    while value >> bit:
        flag = 1 << bit
        if value & flag:
            names.append(by_value.get(flag, f"BIT_{bit}"))
        bit += 1
    return names
