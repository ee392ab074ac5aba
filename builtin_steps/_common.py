"""Helpers shared by the built-in detector steps.

Two small concerns live here:

* the JWST data-quality bit values that the numeric kernels use as defaults
  (taken from :mod:`pipeline_core.datamodels.dqflags`), and
* the glue every step repeats: open the input as a ramp; find and open a
  reference file (or mark the step skipped) and check it against the data,
  cut to the science subarray (:func:`load_reference`, or
  :func:`reference_cutout` for a view of one array of an opened reference;
  with ``lazy=True`` the reference's arrays stay in the file and are read in
  parts).

The kernels stay pure numpy: they receive arrays and bit values, never models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from pipeline_core.datamodels.dqflags import pixel as _PIXEL
from pipeline_core.errors import ReferenceFileError

__all__ = [
    "DO_NOT_USE",
    "SATURATED",
    "JUMP_DET",
    "AD_FLOOR",
    "NO_LIN_CORR",
    "NO_SAT_CHECK",
    "REFERENCE_PIXEL",
    "Window",
    "subarray_cutout",
    "window_offset",
    "reference_rows",
    "ReferenceRows",
    "reference_row_reader",
    "science_window",
    "reference_window",
    "load_reference",
    "required_reference_path",
    "open_reference_as",
    "check_reference_coverage",
    "mark_skipped",
    "reference_cutout",
    "open_ramp",
]

#: Pixel or group should not be used (bit 0, pixel and group DQ).
DO_NOT_USE = _PIXEL["DO_NOT_USE"]
#: Saturated (bit 1, pixel and group DQ).
SATURATED = _PIXEL["SATURATED"]
#: Jump detected (bit 2, group DQ).
JUMP_DET = _PIXEL["JUMP_DET"]
#: Below the analog-to-digital floor (bit 6, group DQ).
AD_FLOOR = _PIXEL["AD_FLOOR"]
#: Linearity correction not available (bit 20, pixel DQ).
NO_LIN_CORR = _PIXEL["NO_LIN_CORR"]
#: Saturation check not available (bit 21, pixel DQ).
NO_SAT_CHECK = _PIXEL["NO_SAT_CHECK"]
#: Reference pixel (bit 31, pixel DQ).
REFERENCE_PIXEL = _PIXEL["REFERENCE_PIXEL"]


class Window(NamedTuple):
    """A detector window in the 1-based FITS ``SUBSTRT``/``SUBSIZE`` convention.

    Attributes
    ----------
    xstart, ystart : int
        First column and row (1-based) of the window on the full detector.
    xsize, ysize : int
        Number of columns and rows.
    """

    xstart: int
    ystart: int
    xsize: int
    ysize: int


def science_window(model: Any) -> Window:
    """Return the detector window of a science model.

    Parameters
    ----------
    model : DataModel
        Model with ``meta.subarray`` and 2-D image planes on its last axes.

    Returns
    -------
    Window
        From ``meta.subarray``; missing values default to a window starting
        at (1, 1) with the data's shape.
    """
    ny, nx = model.data.shape[-2:]
    sub = model.meta.subarray
    return Window(int(sub.xstart or 1), int(sub.ystart or 1), int(sub.xsize or nx), int(sub.ysize or ny))


def required_reference_path(step: Any, model: Any, reftype: str, need: str, remedy: str = "") -> str:
    """Return the path of a reference file the step cannot run without.

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (its ``get_reference_file`` and name are used).
    model : DataModel
        Science model the reference is selected for.
    reftype : str
        Reference type, e.g. ``"gain"``.
    need : str
        What needs it, completing "...; <need>", e.g. ``"jump detection needs
        both gain and readnoise"``.
    remedy : str, optional
        Appended to "Give one with override_<reftype>=<file>", e.g.
        ``" or skip the step"``.

    Returns
    -------
    str
        The file's path.

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        When CRDS answers N/A for the data: the message names the step, the
        reference type, the input and the override that would do.
    """
    path = step.get_reference_file(model, reftype)
    if path == "N/A":
        raise ReferenceFileError(
            f"step {step.name}: no {reftype} reference file applies to "
            f"'{model.meta.filename or 'the input'}'; {need}. "
            f"Give one with override_{reftype}=<file>{remedy}"
        )
    return path


def open_reference_as(step: Any, path: Any, reftype: str, cls: type) -> Any:
    """Open a reference file that must be of type `reftype` and open as a `cls` model.

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        When its ``REFTYPE`` names another type, or it opens as another model
        (the message names the step, the file and the override to give).
    """
    from pipeline_core.datamodels import open_model
    from pipeline_core.references.lookup import check_reference_type

    ref = open_model(path)
    check_reference_type(step, ref, reftype)
    if not isinstance(ref, cls):
        name = ref.meta.filename or path
        raise ReferenceFileError(
            f"step '{step.name}': the {reftype.upper()} reference file '{name}' opens as a "
            f"{type(ref).__name__}, not a {cls.__name__}. Give a JWST {reftype.upper()} "
            f"reference file (override_{reftype})."
        )
    return ref


def load_reference(step: Any, model: Any, reftype: str, *, lazy: bool = False) -> Any | None:
    """Find and open a step's reference file, or mark the step skipped.

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (its ``get_reference_file``, ``log`` and cal-step key
        are used).
    model : DataModel
        Science model the reference is selected for.
    reftype : str
        Reference type, e.g. ``"mask"``.
    lazy : bool
        Open the file with ``open_model(path, lazy=True)``: its arrays stay in
        the file until used, and ``ref.read_section(name, key)`` reads parts of
        them. The model is then checked but not cut: cut each array read from
        it with :func:`reference_cutout`.

    Returns
    -------
    DataModel or None
        The reference model, cut to the science subarray when it is larger
        (:func:`pipeline_core.references.lookup.check_reference_shape`; not with
        ``lazy``); None when the reference is "N/A", in which case
        ``meta.cal_step.<key>`` of ``model`` is set to ``"SKIPPED"``.

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        If the file is of another type or does not cover the data's pixels.
    """
    from pipeline_core.datamodels import open_model
    from pipeline_core.references.lookup import check_reference_shape

    path = step.get_reference_file(model, reftype)
    if path == "N/A":
        step.log.warning("No %s reference file applies; step %s skipped", reftype.upper(), step.name)
        mark_skipped(step, model)
        return None
    if lazy:
        ref = open_model(path, lazy=True)
        check_reference_coverage(step, model, ref, reftype)
        return ref
    return check_reference_shape(step, reftype, open_model(path), model)


def check_reference_coverage(step: Any, model: Any, ref: Any, reftype: str) -> None:
    """Check a reference's type and that it covers the science pixels, reading no array.

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (named in errors).
    model : DataModel
        Science model.
    ref : DataModel
        Reference model (possibly opened lazily); its primary array's shape is
        used.
    reftype : str
        Expected reference type.

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        If the file's REFTYPE is another type, it has no pixel array, or its
        pixels do not cover the data's.
    """
    from pipeline_core.references.lookup import check_reference_type

    check_reference_type(step, ref, reftype)
    name = ref.meta.filename or "<in memory>"
    shape = ref.shape
    if shape is None or len(shape) < 2:
        raise ReferenceFileError(
            f"step {step.name}: the {reftype.upper()} reference file '{name}' has no pixel array; "
            f"give a complete {reftype.upper()} reference file (override_{reftype})."
        )
    stand_in = np.broadcast_to(np.zeros((), np.float32), shape[-2:])  # shape only, no memory
    reference_cutout(step, model, ref, stand_in, reftype)


def mark_skipped(step: Any, model: Any) -> None:
    """Set ``meta.cal_step.<key>`` of ``model`` to ``"SKIPPED"`` for ``step``.

    Parameters
    ----------
    step : pipeline_core.Step
        The step (its ``cal_step_key`` or ``class_alias`` names the key).
    model : DataModel
        The model to mark.
    """
    key = getattr(step, "cal_step_key", None) or step.class_alias
    setattr(model.meta.cal_step, key, "SKIPPED")


def open_ramp(step: Any, step_input: Any) -> Any:
    """Return the step input as a RampModel, or raise a clear error.

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (named in the error).
    step_input : str, os.PathLike or DataModel
        The input given to ``process``.

    Returns
    -------
    RampModel

    Raises
    ------
    pipeline_core.errors.StepError
        If the input is not a ramp.
    """
    from pipeline_core.datamodels import RampModel, open_model
    from pipeline_core.errors import StepError

    model = open_model(step_input)
    if not isinstance(model, RampModel):
        raise StepError(
            f"step {step.name}: needs a ramp (RampModel, 4-D SCI of nints x ngroups x ny x nx), got "
            f"{type(model).__name__} from '{model.meta.filename or step_input!r}'; run it on an "
            "uncalibrated (_uncal) or partly calibrated ramp file"
        )
    return model


def subarray_cutout(
    ref: np.ndarray,
    *,
    sci_window: Window,
    ref_window: Window | None = None,
    what: str = "reference array",
) -> np.ndarray:
    """Return the part of a reference array that covers a science window (a view).

    Only the last two axes (rows, columns) are cut; leading axes (groups,
    coefficients) are kept. When the reference already has the science
    window's shape at the same position, it is returned unchanged.

    Parameters
    ----------
    ref : numpy.ndarray
        Reference array, ``(..., ny, nx)``.
    sci_window : Window
        Window of the science data.
    ref_window : Window, optional
        Window covered by ``ref``; default: a window starting at pixel (1, 1)
        with the shape of ``ref``, i.e. a full-frame reference.
    what : str
        Name used in error messages (e.g. ``"saturation reference 'x.fits'"``).

    Returns
    -------
    numpy.ndarray
        A view of ``ref`` with shape ``(..., sci_window.ysize, sci_window.xsize)``.

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        If the reference does not cover the science window.
    """
    ny, nx = ref.shape[-2:]
    if (ny, nx) == (sci_window.ysize, sci_window.xsize) and (
        ref_window is None or ref_window[:2] == sci_window[:2]
    ):
        return ref
    y0, x0 = window_offset((ny, nx), sci_window=sci_window, ref_window=ref_window, what=what)
    return ref[..., y0 : y0 + sci_window.ysize, x0 : x0 + sci_window.xsize]


def window_offset(
    ref_shape: tuple[int, int],
    *,
    sci_window: Window,
    ref_window: Window | None = None,
    what: str = "reference array",
) -> tuple[int, int]:
    """Return the (row, column) of the science window's first pixel in a reference array.

    Parameters
    ----------
    ref_shape : tuple of int
        ``(ny, nx)`` of the reference array.
    sci_window : Window
        Window of the science data.
    ref_window : Window, optional
        Window covered by the reference; default: a full-frame reference
        starting at pixel (1, 1).
    what : str
        Name used in error messages.

    Returns
    -------
    (int, int)
        Zero-based row and column offsets.

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        If the reference does not cover the science window.
    """
    ny, nx = ref_shape
    if ref_window is None:
        ref_window = Window(1, 1, nx, ny)
    x0 = sci_window.xstart - ref_window.xstart
    y0 = sci_window.ystart - ref_window.ystart
    x1 = x0 + sci_window.xsize
    y1 = y0 + sci_window.ysize
    if x0 < 0 or y0 < 0 or x1 > nx or y1 > ny:
        raise ReferenceFileError(
            f"{what} covers columns {ref_window.xstart}..{ref_window.xstart + nx - 1} and rows "
            f"{ref_window.ystart}..{ref_window.ystart + ny - 1} ({ny}x{nx}), which does not contain "
            f"the science subarray (columns {sci_window.xstart}..{sci_window.xstart + sci_window.xsize - 1}, "
            f"rows {sci_window.ystart}..{sci_window.ystart + sci_window.ysize - 1}); "
            "use a full-frame reference or one made for this subarray"
        )
    return y0, x0


def reference_window(ref: Any, array: np.ndarray) -> Window | None:
    """Return the window of a reference model, or None if it records none.

    Parameters
    ----------
    ref : DataModel
        Reference model.
    array : numpy.ndarray
        One of its image arrays (for the sizes when they are not recorded).

    Returns
    -------
    Window or None
    """
    sub = ref.meta.subarray
    if sub.xstart is None or sub.ystart is None:
        return None
    ny, nx = array.shape[-2:]
    return Window(int(sub.xstart), int(sub.ystart), nx, ny)


def reference_cutout(step: Any, model: Any, ref: Any, array: np.ndarray, reftype: str) -> np.ndarray:
    """Cut one array of an opened reference to the science window, as a view.

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (named in errors).
    model : DataModel
        Science model.
    ref : DataModel
        Reference model that holds ``array``.
    array : numpy.ndarray
        ``(..., ny, nx)`` reference array.
    reftype : str
        Reference type, for messages.

    Returns
    -------
    numpy.ndarray
        ``array`` cut to the science window (a view, no copy).

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        If the reference does not cover the science window.
    """
    name = ref.meta.filename or "<in memory>"
    what = f"step {step.name}: {reftype} reference '{name}'"
    return subarray_cutout(
        array, sci_window=science_window(model), ref_window=reference_window(ref, array), what=what
    )


@dataclass(frozen=True)
class ReferenceRows:
    """Rows of a 2-D reference image still in its file, cut to the science window.

    A :class:`~pipeline_core.parallel.rows.RowReader`: given to
    :func:`~pipeline_core.parallel.rows.map_row_slices` as an input, every process reads
    the rows of its own blocks from the file, in parallel.

    Attributes
    ----------
    image : pipeline_core.datamodels.DeferredImage
        The reference array in its file.
    y0, x0 : int
        Where the science window starts in the reference array (0-based).
    shape : tuple of int
        ``(ny, nx)`` of the science data.
    """

    image: Any
    y0: int
    x0: int
    shape: tuple[int, int]

    def read_rows(self, start: int, stop: int, row_axis: int = -2) -> np.ndarray:
        """Read science rows ``start:stop`` (the reference rows under them).

        Parameters
        ----------
        start, stop : int
            Science rows, 0-based, ``stop`` excluded.
        row_axis : int, optional
            Must be the first axis (0 or -2) of the 2-D array.

        Returns
        -------
        numpy.ndarray
            A new ``(stop - start, nx)`` array.
        """
        if row_axis not in (0, -2):
            raise ValueError(f"ReferenceRows reads rows along axis 0 (-2), not {row_axis}")
        nx = self.shape[1]
        block = self.image.read_section(slice(self.y0 + start, self.y0 + stop))
        if (self.x0, nx) == (0, block.shape[1]):
            return block
        return np.ascontiguousarray(block[:, self.x0 : self.x0 + nx])


def reference_row_reader(
    step: Any, model: Any, ref: Any, name: str, reftype: str
) -> np.ndarray | ReferenceRows:
    """The science window of a 2-D reference array, read now or left for each block.

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (named in errors).
    model : DataModel
        Science model.
    ref : DataModel
        Reference model holding the ``(ny, nx)`` array ``name``, possibly opened
        lazily.
    name : str
        Array attribute, e.g. ``"data"``.
    reftype : str
        Reference type, for messages.

    Returns
    -------
    numpy.ndarray or ReferenceRows
        A :class:`ReferenceRows` while the array is still in its (uncompressed)
        file, for :func:`~pipeline_core.parallel.rows.map_row_slices` to read block by
        block; otherwise the array cut to the science window (a view).

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        If the reference does not cover the science window.
    """
    image = ref.deferred(name)
    if image is None:
        return reference_cutout(step, model, ref, getattr(ref, name), reftype)
    shape = image.shape[-2:]
    stand_in = np.broadcast_to(np.zeros((), np.float32), shape)
    label = f"step {step.name}: {reftype} reference '{ref.meta.filename or '<in memory>'}'"
    y0, x0 = window_offset(
        shape, sci_window=science_window(model), ref_window=reference_window(ref, stand_in), what=label
    )
    return ReferenceRows(image, int(y0), int(x0), tuple(int(n) for n in model.data.shape[-2:]))


def reference_rows(step: Any, model: Any, ref: Any, name: str, rows: slice, reftype: str) -> np.ndarray:
    """Read some rows of a 2-D reference array, cut to the science columns.

    For a lazily opened reference (``load_reference(..., lazy=True)``) only
    those rows are read from the file (through :func:`reference_row_reader`).

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (named in errors).
    model : DataModel
        Science model.
    ref : DataModel
        Reference model holding the ``(ny, nx)`` array ``name``.
    name : str
        Array attribute, e.g. ``"data"``.
    rows : slice
        Rows of the science data (0-based, step 1).
    reftype : str
        Reference type, for messages.

    Returns
    -------
    numpy.ndarray
        ``(rows, science nx)`` array.

    Raises
    ------
    pipeline_core.errors.ReferenceFileError
        If the reference does not cover the science window.
    """
    source = reference_row_reader(step, model, ref, name, reftype)
    start, stop, _ = rows.indices(model.data.shape[-2])
    if isinstance(source, ReferenceRows):
        return source.read_rows(start, stop)
    return source[start:stop]
