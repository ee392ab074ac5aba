"""The persistence array file: open persistence windows carried from one exposure to the next.

An ASDF file whose tree has one entry per detector name::

    NRCA1:
      filename: jw..._uncal.fits   # the exposure that wrote the entry
      rows: [...]                  # pixels with an open window (0-based)
      cols: [...]
      vals: [...]                  # window end times, seconds since 1970-01-01 UTC
      pers_time: 3000              # the persistence_time the windows were made with

This is the layout the JWST persistence step reads and writes, so the same
file can be passed from one exposure to the next in either pipeline.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["asdf_path", "read_window_ends", "write_window_ends"]


def asdf_path(path: str | os.PathLike[str]) -> str:
    """Return ``path`` with the ``.asdf`` extension (replacing any other one).

    Parameters
    ----------
    path : str or os.PathLike
        A file name.

    Returns
    -------
    str
    """
    path = Path(path)
    return str(path if path.suffix == ".asdf" else path.with_suffix(".asdf"))


def _load_tree(path: str) -> dict[str, Any]:
    """Read a persistence array file into plain dicts and arrays."""
    import asdf

    with asdf.open(path, lazy_load=False, memmap=False) as handle:
        tree: dict[str, Any] = {}
        for key, node in handle.tree.items():
            if key.startswith("asdf_") or key == "history" or not hasattr(node, "items"):
                continue
            tree[key] = {
                name: np.array(value) if hasattr(value, "shape") else value for name, value in node.items()
            }
    return tree


def read_window_ends(
    path: str,
    detector: str,
    shape: tuple[int, int],
    persistence_time: int,
    log: logging.Logger,
) -> np.ndarray:
    """Read the open windows of one detector from a persistence array file.

    Parameters
    ----------
    path : str
        The ASDF file; a missing file gives no open window.
    detector : str
        Detector name (the tree key).
    shape : (int, int)
        ``(ny, nx)`` of the data.
    persistence_time : int
        The step's window length; an entry made with another length is ignored
        (logged), giving no open window.
    log : logging.Logger
        Where to report a missing file or entry.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64 window end times, 0 where no window is open.

    Raises
    ------
    ValueError
        If the file cannot be read, or its entry for ``detector`` is malformed
        or names pixels outside ``shape``.
    """
    ends = np.zeros(shape, dtype=np.float64)
    if not os.path.exists(path):
        log.info("Persistence array file '%s' does not exist; starting with no open window", path)
        return ends
    try:
        tree = _load_tree(path)
    except Exception as exc:  # asdf raises many types for a bad file
        raise ValueError(f"'{path}' is not a readable ASDF file ({type(exc).__name__}: {exc})") from exc
    entry = tree.get(detector)
    if entry is None:
        log.info("Detector %s is not in persistence array file '%s'; starting with no open window", detector, path)
        return ends
    try:
        rows = np.asarray(entry["rows"], dtype=np.int64)
        cols = np.asarray(entry["cols"], dtype=np.int64)
        vals = np.asarray(entry["vals"], dtype=np.float64)
        pers_time = entry["pers_time"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"the {detector} entry of '{path}' needs 'rows', 'cols', 'vals' and 'pers_time' ({exc})"
        ) from exc
    if pers_time != persistence_time:
        log.info(
            "Persistence array file '%s': %s does not equal persistence_time %s; its windows are not used",
            path,
            pers_time,
            persistence_time,
        )
        return ends
    if not (rows.shape == cols.shape == vals.shape and rows.ndim == 1):
        raise ValueError(
            f"the {detector} entry of '{path}' has rows, cols and vals of shapes {rows.shape}, "
            f"{cols.shape}, {vals.shape}; they must be 1-D and of one length"
        )
    if rows.size and (rows.min() < 0 or cols.min() < 0 or rows.max() >= shape[0] or cols.max() >= shape[1]):
        raise ValueError(
            f"the {detector} entry of '{path}' names pixels outside the data's {shape[0]} x {shape[1]} "
            "pixels; it was written for another subarray"
        )
    ends[rows, cols] = vals
    return ends


def write_window_ends(
    path: str,
    detector: str,
    filename: str | None,
    window_ends: np.ndarray,
    persistence_time: int,
) -> str:
    """Store one detector's open windows in a persistence array file.

    Other detectors' entries of an existing file are kept; this detector's is
    replaced. The file is written atomically.

    Parameters
    ----------
    path : str
        The ASDF file (its extension is made ``.asdf``).
    detector : str
        Detector name (the tree key).
    filename : str or None
        Name of the exposure, recorded in the entry.
    window_ends : numpy.ndarray
        ``(ny, nx)`` window end times, 0 where no window is open.
    persistence_time : int
        Window length, recorded as ``pers_time``.

    Returns
    -------
    str
        The path written.
    """
    import asdf

    from pipeline_core.output import atomic_write

    path = asdf_path(path)
    tree = _load_tree(path) if os.path.exists(path) else {}
    rows, cols = np.nonzero(window_ends)
    tree[detector] = {
        "filename": filename or "",
        "rows": rows.astype(np.int64),
        "cols": cols.astype(np.int64),
        "vals": window_ends[rows, cols].astype(np.float64),
        "pers_time": int(persistence_time),
    }
    with atomic_write(path) as tmp:
        asdf.AsdfFile(tree).write_to(tmp)
    return path
