"""Read the ``distortion`` and ``filteroffset`` reference files of the imaging WCS.

Both are ASDF files in the JWST layout: a ``distortion`` file holds ``model``,
an astropy-modeling transform from full-frame detector pixels to V2, V3
(arcsec); a ``filteroffset`` file holds ``filters``, a list of
``{filter, pupil, column_offset, row_offset}``. Every problem is reported as a
:class:`~pipeline_core.errors.ReferenceFileError` naming the step, the file,
what is wrong and what to do.
"""

from __future__ import annotations

from typing import Any

from pipeline_core.errors import ReferenceFileError

__all__ = ["read_distortion", "filter_offset"]


def _open_tree(step_name: str, reftype: str, path: str) -> dict[str, Any]:
    import asdf

    try:
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            return dict(af.tree)
    except Exception as error:
        raise ReferenceFileError(
            f"step '{step_name}': the {reftype.upper()} reference file '{path}' cannot be read as "
            f"ASDF ({type(error).__name__}: {error}). Give a JWST {reftype.upper()} reference file "
            f"(override_{reftype}) or let CRDS choose it."
        ) from error


def _check_type(step_name: str, reftype: str, path: str, tree: dict[str, Any]) -> dict[str, Any]:
    meta = tree.get("meta") if isinstance(tree.get("meta"), dict) else {}
    declared = str(meta.get("reftype") or "").strip().lower()
    if declared and declared != reftype:
        raise ReferenceFileError(
            f"step '{step_name}': '{path}' is a {declared.upper()} reference file (reftype="
            f"{declared.upper()!r}), not {reftype.upper()}. Give a {reftype.upper()} reference "
            f"file (override_{reftype})."
        )
    return meta


def read_distortion(step_name: str, path: str, instrument: str, detector: str) -> Any:
    """Return the transform of a ``distortion`` reference file.

    Parameters
    ----------
    step_name : str
        The step reading it (for messages).
    path : str
        The ASDF file.
    instrument, detector : str
        The data's instrument and detector; a file made for another one is refused.

    Returns
    -------
    astropy.modeling.Model
        Two inputs (full-frame 0-based x, y), two outputs (V2, V3 in arcsec).

    Raises
    ------
    ReferenceFileError
        When the file is unreadable, of another type, has no two-by-two
        ``model``, or is for another instrument or detector.
    """
    from astropy.modeling import Model

    tree = _open_tree(step_name, "distortion", path)
    meta = _check_type(step_name, "distortion", path, tree)
    model = tree.get("model")
    if not isinstance(model, Model) or model.n_inputs != 2 or model.n_outputs != 2:
        raise ReferenceFileError(
            f"step '{step_name}': the DISTORTION reference file '{path}' has no imaging transform "
            f"('model' is {type(model).__name__}; expected an astropy model with 2 inputs and 2 "
            "outputs, detector pixels to V2/V3 in arcsec). Give an imaging DISTORTION file "
            "(override_distortion)."
        )
    inst = meta.get("instrument") if isinstance(meta.get("instrument"), dict) else {}
    for key, value in (("name", instrument), ("detector", detector)):
        found = str(inst.get(key) or "").strip().upper()
        if found and value and found != value.upper():
            raise ReferenceFileError(
                f"step '{step_name}': the DISTORTION reference file '{path}' is for "
                f"{key} {found}, but the data are {value.upper()}. Give the distortion of "
                f"{value.upper()} (override_distortion) or let CRDS choose it."
            )
    return model


def filter_offset(step_name: str, path: str, filt: str | None, pupil: str | None) -> tuple[float, float] | None:
    """Return the (column, row) offset of a filter from a ``filteroffset`` reference file.

    Parameters
    ----------
    step_name : str
        The step reading it (for messages).
    path : str
        The ASDF file.
    filt, pupil : str or None
        The data's FILTER and PUPIL. A row matches on its ``filter`` (or
        ``name``) and, when it has one, its ``pupil``.

    Returns
    -------
    (float, float) or None
        The offsets in pixels, or None when no row matches (no offset applies,
        as in the JWST pipeline).

    Raises
    ------
    ReferenceFileError
        When the file is unreadable, of another type or has no ``filters`` list.
    """
    tree = _open_tree(step_name, "filteroffset", path)
    _check_type(step_name, "filteroffset", path, tree)
    rows = tree.get("filters")
    if not isinstance(rows, list):
        raise ReferenceFileError(
            f"step '{step_name}': the FILTEROFFSET reference file '{path}' has no 'filters' list. "
            "Give a JWST FILTEROFFSET file (override_filteroffset), or override_filteroffset='N/A' "
            "for no offset."
        )
    wanted_filter = (filt or "").strip().upper()
    wanted_pupil = (pupil or "").strip().upper()
    for row in rows:
        if not isinstance(row, dict):
            continue
        name = str(row.get("filter", row.get("name", ""))).strip().upper()
        if name != wanted_filter:
            continue
        if "pupil" in row and str(row["pupil"]).strip().upper() != wanted_pupil:
            continue
        return float(row.get("column_offset", 0.0)), float(row.get("row_offset", 0.0))
    return None
