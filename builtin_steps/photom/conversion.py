"""Photometric conversion: find the table row of an exposure and scale its arrays.

Imaging ``photom`` tables have one row per filter configuration with the
conversion ``photmjsr`` from DN/s to MJy/sr (or ``photmj`` to MJy, which an
extended source divides by the pixel solid angle). The data and error are
multiplied by the conversion, the variances by its square. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["MJSR_TO_UJA2", "find_rows", "column", "scale_arrays"]

#: Converts MJy/sr to microjansky per square arcsecond.
MJSR_TO_UJA2 = 1.0e12 * (np.pi / 180.0 / 3600.0) ** 2


def column(table: np.ndarray, name: str) -> np.ndarray | None:
    """Return a table column by name, ignoring case (None when absent).

    Parameters
    ----------
    table : numpy.ndarray
        A structured array.
    name : str
        Column name.

    Returns
    -------
    numpy.ndarray or None
    """
    for field in table.dtype.names or ():
        if field.lower() == name.lower():
            return table[field]
    return None


def find_rows(table: np.ndarray, match: Mapping[str, str]) -> np.ndarray:
    """Return the indices of the rows whose columns equal the given values.

    Parameters
    ----------
    table : numpy.ndarray
        A structured array.
    match : mapping of str to str
        Column name -> value; strings compare without case and surrounding blanks.

    Returns
    -------
    numpy.ndarray
        Row indices (empty when none matches).

    Raises
    ------
    KeyError
        When a column is missing.
    """
    keep = np.ones(len(table), bool)
    for name, value in match.items():
        values = column(table, name)
        if values is None:
            raise KeyError(name)
        text = np.char.upper(np.char.strip(np.asarray(values).astype(str)))
        keep &= text == str(value).strip().upper()
    return np.nonzero(keep)[0]


def scale_arrays(arrays: Mapping[str, np.ndarray | None], factor: float, *, inverse: bool = False) -> dict[str, np.ndarray]:
    """Multiply ``data`` and ``err`` by a factor and variances by its square (or divide).

    Parameters
    ----------
    arrays : mapping
        ``data``, ``err`` and any of ``var_poisson``, ``var_rnoise``, ``var_flat``
        (None entries are skipped).
    factor : float
        The conversion.
    inverse : bool
        Divide instead.

    Returns
    -------
    dict
        New float32 arrays by name.
    """
    scale = 1.0 / factor if inverse else factor
    out = {}
    for name, array in arrays.items():
        if array is None:
            continue
        power = 2 if name.startswith("var_") else 1
        out[name] = (np.asarray(array, np.float32) * np.float32(scale**power)).astype(np.float32)
    return out
