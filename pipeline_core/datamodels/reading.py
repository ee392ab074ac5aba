"""Open a data file of either format: FITS in the JWST layout, or ASDF."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline_core.datamodels.asdf_io import read_asdf
from pipeline_core.datamodels.fits_io import ClassChooser, read_fits
from pipeline_core.errors import DataModelError
from pipeline_core.output import is_temporary_file

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.datamodels.base import DataModel

__all__ = ["read_file"]


def read_file(
    path: str | os.PathLike,
    *,
    model_class: type[DataModel] | None = None,
    choose_class: ClassChooser | None = None,
    lazy: bool = False,
    threads: int = 1,
) -> tuple[type[DataModel], dict[str, np.ndarray], dict[str, Any]]:
    """Read a FITS or ASDF file into arrays and a metadata tree.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    model_class : type, optional
        The model class to read it as; chosen from the file by ``choose_class``
        when None.
    choose_class : callable, optional
        Picks the class from the file's ``model_type``, ``reftype`` and
        extensions (:func:`~pipeline_core.datamodels.factory.model_class_for`).
    lazy : bool
        Leave the image arrays of an uncompressed FITS file in the file until
        they are used (see :mod:`pipeline_core.datamodels.deferred`); ASDF and
        compressed files are read at once.
    threads : int
        Threads that read each large image of an uncompressed FITS file at
        once (the same values; :func:`~pipeline_core.datamodels.rawio.read_image_data`).

    Returns
    -------
    (type, dict, dict)
        The model class, its arrays by attribute name, and the ``meta`` tree.

    Raises
    ------
    DataModelError
        If the file is missing, of another format or malformed, or is the
        temporary file of an unfinished save
        (:func:`pipeline_core.output.is_temporary_file`).
    """
    path = os.fspath(path)
    if is_temporary_file(path):
        raise DataModelError(
            f"Cannot open '{path}': it is the hidden temporary file of a save that did not "
            "finish (the process writing it was stopped), not a product. Open the product "
            "itself (the same name without the leading '.' and the '.<host>-<pid>.<random>.tmp' "
            "part), or run again to make it; the next run into this folder deletes the "
            "temporary file."
        )
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except FileNotFoundError as exc:
        raise DataModelError(
            f"Cannot open '{path}': no such file. Check the path and the working directory."
        ) from exc
    except IsADirectoryError as exc:
        raise DataModelError(f"Cannot open '{path}': it is a directory, not a file.") from exc
    if magic == b"SIMPLE" or magic.startswith(b"\x1f\x8b"):
        return read_fits(
            path, model_class=model_class, choose_class=choose_class, lazy=lazy, threads=threads
        )
    if magic.startswith(b"#ASDF"):
        return read_asdf(path, model_class=model_class, choose_class=choose_class)
    raise DataModelError(
        f"Cannot open '{path}': it is not a FITS file (it does not start with 'SIMPLE') "
        "nor an ASDF file. Pass a JWST-layout FITS file (.fits, .fits.gz) or an ASDF file "
        "(.asdf)."
    )

