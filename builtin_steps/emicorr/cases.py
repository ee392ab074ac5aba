"""Which EMI frequencies to correct, from the EMICORR reference tree or the user.

The EMICORR reference holds two nodes: ``frequencies`` (name -> frequency in
Hz and a reference waveform, one period long) and ``subarray_cases``
(subarray -> row and reset-frame clocks and the frequency names to correct,
per read-out speed and, for SLOW, per detector). This module turns them, or a
list of frequencies given by the user, into :class:`EmiCase` records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from builtin_steps.emicorr.clocks import SUBARRAY_CLOCKS

__all__ = [
    "EmiFrequency",
    "EmiCase",
    "readout_speed",
    "case_name",
    "case_from_reference",
    "case_on_the_fly",
    "on_the_fly_reference_tree",
]


@dataclass(frozen=True)
class EmiFrequency:
    """One frequency to correct.

    Attributes
    ----------
    name : str
        Name in the reference file (``"Hz390"``), or ``repr`` of the frequency.
    frequency : float
        Hz.
    waveform : numpy.ndarray or None
        Reference waveform over one period (None: measure it from the data).
    """

    name: str
    frequency: float
    waveform: np.ndarray | None = None


@dataclass(frozen=True)
class EmiCase:
    """Readout clocks of a subarray and the frequencies to correct in it.

    Attributes
    ----------
    rowclocks, frameclocks : int
        Clocks per row, and of the reset frame between integrations.
    frequencies : list of EmiFrequency
        In the order they are corrected.
    """

    rowclocks: int
    frameclocks: int
    frequencies: list[EmiFrequency] = field(default_factory=list)


def readout_speed(readpatt: str) -> str | None:
    """``"SLOW"`` or ``"FAST"`` from a MIRI read pattern, None for other patterns.

    Parameters
    ----------
    readpatt : str
        ``READPATT`` (``FAST``, ``FASTR1``, ``SLOW``, ``SLOWR1``...).

    Returns
    -------
    str or None
    """
    readpatt = readpatt.upper()
    if "SLOW" in readpatt:
        return "SLOW"
    if "FAST" in readpatt:
        return "FAST"
    return None


def case_name(subarray: str, speed: str) -> str:
    """The ``subarray_cases`` key of a subarray: ``FULL_FAST``/``FULL_SLOW`` for full frame.

    Parameters
    ----------
    subarray : str
        ``SUBARRAY``.
    speed : str
        ``"FAST"`` or ``"SLOW"``.

    Returns
    -------
    str
    """
    return f"{subarray}_{speed}" if "FULL" in subarray else subarray


def case_from_reference(
    frequencies: Mapping[str, Any],
    subarray_cases: Mapping[str, Any],
    *,
    subarray: str,
    readpatt: str,
    detector: str,
) -> EmiCase | None:
    """The case of an exposure in an EMICORR reference tree.

    Parameters
    ----------
    frequencies, subarray_cases : mapping
        The two nodes of the reference.
    subarray, readpatt, detector : str
        The exposure's ``SUBARRAY``, ``READPATT`` and ``DETECTOR``.

    Returns
    -------
    EmiCase or None
        None when the reference has no entry for this subarray, speed (and
        detector, for SLOW).

    Raises
    ------
    KeyError
        When a frequency the case names is missing from ``frequencies`` (the
        message names it).
    """
    speed = readout_speed(readpatt)
    if speed is None:
        return None
    case = subarray_cases.get(case_name(subarray, speed))
    if not isinstance(case, Mapping):
        return None
    names = (case.get("freqs") or {}).get(speed)
    if speed == "SLOW" and isinstance(names, Mapping):
        names = names.get(detector)
    if not names or case.get("rowclocks") is None or case.get("frameclocks") is None:
        return None
    found = []
    for name in names:
        entry = frequencies.get(name)
        if not isinstance(entry, Mapping) or "frequency" not in entry:
            raise KeyError(f"frequency {name!r} (named by subarray case {subarray!r}) is not defined")
        wave = entry.get("phase_amplitudes")
        found.append(
            EmiFrequency(
                str(name),
                float(entry["frequency"]),
                None if wave is None else np.asarray(wave, dtype=np.float64).ravel(),
            )
        )
    return EmiCase(int(case["rowclocks"]), int(case["frameclocks"]), found)


def case_on_the_fly(subarray: str, readpatt: str, frequencies: Sequence[float]) -> EmiCase | None:
    """A case for user-given frequencies, with the built-in clocks of the subarray.

    Parameters
    ----------
    subarray, readpatt : str
        The exposure's ``SUBARRAY`` and ``READPATT``.
    frequencies : sequence of float
        Hz.

    Returns
    -------
    EmiCase or None
        None for a subarray whose clocks are not known (or an empty list).
    """
    name = subarray
    if name == "FULL":
        speed = readout_speed(readpatt)
        name = f"FULL_{speed}" if speed else name
    clocks = SUBARRAY_CLOCKS.get(name)
    if clocks is None or not frequencies:
        return None
    return EmiCase(clocks[0], clocks[1], [EmiFrequency(repr(float(f)), float(f)) for f in frequencies])


def on_the_fly_reference_tree(
    case: EmiCase,
    waveforms: Mapping[str, np.ndarray],
    *,
    subarray: str,
    readpatt: str,
    detector: str,
) -> dict[str, Any]:
    """The ``frequencies`` and ``subarray_cases`` nodes of a reference made from the data.

    Keys follow the layout :func:`case_from_reference` reads, so the file
    can be given back as ``override_emicorr``.

    Parameters
    ----------
    case : EmiCase
        The case corrected.
    waveforms : mapping of str to numpy.ndarray
        Frequency name -> measured waveform (phase-binned amplitudes).
    subarray, readpatt, detector : str
        The exposure's ``SUBARRAY``, ``READPATT`` and ``DETECTOR``.

    Returns
    -------
    dict
        ``{"frequencies": ..., "subarray_cases": ...}``.
    """
    speed = readout_speed(readpatt) or readpatt
    names = [f.name for f in case.frequencies]
    freqs: dict[str, Any] = {speed: names} if speed == "FAST" else {speed: {detector: names}}
    return {
        "frequencies": {
            f.name: {"frequency": f.frequency, "phase_amplitudes": np.asarray(waveforms[f.name])}
            for f in case.frequencies
            if f.name in waveforms
        },
        "subarray_cases": {
            case_name(subarray, speed): {
                "rowclocks": case.rowclocks,
                "frameclocks": case.frameclocks,
                "freqs": freqs,
            }
        },
    }
