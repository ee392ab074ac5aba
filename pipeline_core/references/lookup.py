"""Calibration and parameter reference files for steps.

:func:`get_reference_file` answers ``step.get_reference_file(model, reftype)``.
The first source that answers wins:

1. the step's ``override_<reftype>`` parameter (a path, or ``"N/A"``);
2. the :func:`~pipeline_core.plugins.hookspecs.get_reference_file` plugin hook;
3. CRDS: ``crds.getreferences`` with ``model.get_crds_parameters()``, for the
   context in ``CRDS_CONTEXT`` or the cache's default (see
   :mod:`pipeline_core.references.crds_client` for the settings and the offline default).

The file used is recorded in ``model.meta.ref_file.<reftype>.name`` (CRDS files
as ``crds://<basename>``, other files by their path) and, for CRDS, the context
in ``model.meta.ref_file.crds.context_used``.

:func:`get_step_parameters` reads a step's CRDS parameter reference file
(reference type ``pars-<class name in lower case>``), the second layer of
``Step.call``'s parameters. :func:`check_reference_shape` checks that an opened
reference file has the type and covers the pixels of the data it calibrates.

Why one module of this size: the lookup order (override, hook, CRDS) and the
checks that a found file fits the data (type, shape, subarray) are one question,
"which reference does this step use"; the CRDS client itself is
:mod:`~pipeline_core.references.crds_client`.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline_core.references import crds_client
from pipeline_core.errors import ReferenceFileError
from pipeline_core.truth import parse_truth

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.plugins.descriptor import StepBase
    from pipeline_core.datamodels import DataModel

__all__ = [
    "NOT_APPLICABLE",
    "DISABLE_STEPPARS_ENV",
    "get_reference_file",
    "get_step_parameters",
    "check_reference_type",
    "check_reference_shape",
    "crds_steppars_disabled",
]

log = logging.getLogger("steppe.references")

#: What :func:`get_reference_file` returns when no reference file applies.
NOT_APPLICABLE = "N/A"

#: Environment variable that turns the CRDS parameter reference files off.
DISABLE_STEPPARS_ENV = "STPIPE_DISABLE_CRDS_STEPPARS"


# The matching parameters worth showing in a message, in this order.
_SHOWN = (
    "META.INSTRUMENT.NAME",
    "META.INSTRUMENT.DETECTOR",
    "META.SUBARRAY.NAME",
    "META.EXPOSURE.READPATT",
    "META.EXPOSURE.TYPE",
    "META.OBSERVATION.DATE",
    "META.OBSERVATION.TIME",
)
# Array attributes of the reference models that cover the detector pixels.
_PIXEL_ARRAYS = ("data", "dq", "err", "coeffs")


# ---------------------------------------------------------------------------- helpers
def _step_label(step: Any) -> str:
    name = getattr(step, "name", None) or type(step).__name__
    return f"step '{name}'"


def _step_log(step: Any) -> logging.Logger:
    logger = getattr(step, "log", None)
    return logger if isinstance(logger, logging.Logger) else log


def _describe(parameters: Mapping[str, Any]) -> str:
    shown = [f"{key}={parameters[key]!r}" for key in _SHOWN if key in parameters]
    return "{" + ", ".join(shown) + "}" if shown else "{no instrument metadata}"


def _crds_parameters(step: Any, model: Any, reftype: str) -> dict[str, Any]:
    getter = getattr(model, "get_crds_parameters", None)
    if getter is None:
        raise ReferenceFileError(
            f"{_step_label(step)}: cannot look up a {reftype.upper()} reference file for a "
            f"{type(model).__name__}: it is not a data model with metadata. Open the input with "
            f"pipeline_core.open_model, or set override_{reftype}."
        )
    return {k: v for k, v in getter().items() if isinstance(k, str) and k.startswith("META.")}


def _read_asdf_tree(path: str) -> dict[str, Any]:
    """The tree of an ASDF file without binary blocks, read without asdf's extensions."""
    from pipeline_core.datamodels.asdf_yaml import load_tree

    with open(path, "rb") as handle:
        return load_tree(handle.read())


def _read_reftype(path: str) -> str | None:
    """The REFTYPE a reference file declares (FITS keyword or ASDF meta.reftype)."""
    info = os.stat(path)
    return _reftype_of(os.path.abspath(path), info.st_size, info.st_mtime_ns)


# A pipeline checks the same references step after step, exposure after exposure:
# each file's REFTYPE is read once per (path, size, modification time).
@functools.lru_cache(maxsize=256)
def _reftype_of(path: str, size: int, mtime_ns: int) -> str | None:
    return _read_reftype_from_file(path)


def _read_reftype_from_file(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(".asdf"):
        meta = _read_asdf_tree(path).get("meta") or {}
        value = meta.get("reftype") if isinstance(meta, Mapping) else None
    else:
        from astropy.io import fits

        value = fits.getheader(path, 0).get("REFTYPE")
    return str(value).strip().lower() if value else None


def _check_given_file(step: Any, reftype: str, path: str, origin: str) -> str:
    """Check a file named by an override or a plugin: it exists, reads, has the type."""
    label = _step_label(step)
    if not os.path.isfile(path):
        remedy = (
            "Give the path of an existing file, or unset it to let CRDS choose."
            if origin.startswith("override_")
            else "Fix the plugin's answer, or set override_" + reftype + " to a local file."
        )
        raise ReferenceFileError(
            f"{label}: {origin} names the {reftype.upper()} reference file '{path}', which does "
            f"not exist. {remedy}"
        )
    if not os.access(path, os.R_OK):
        raise ReferenceFileError(
            f"{label}: {origin} names the {reftype.upper()} reference file '{path}', which "
            "cannot be read (permission denied). Make it readable, or give another file."
        )
    try:
        declared = _read_reftype(path)
    except Exception as error:  # astropy/asdf raise many types; all mean "unreadable"
        raise ReferenceFileError(
            f"{label}: {origin} names the {reftype.upper()} reference file '{path}', which "
            f"cannot be read as FITS or ASDF ({type(error).__name__}: {error}). Give a JWST "
            "reference file."
        ) from error
    if declared is not None and declared != reftype.lower():
        raise ReferenceFileError(
            f"{label}: {origin} names '{path}', a {declared.upper()} reference file "
            f"(REFTYPE={declared.upper()!r}), but a {reftype.upper()} file is needed here. "
            f"Give a {reftype.upper()} reference file."
        )
    return path


def _record(model: Any, reftype: str, name: str, context: str | None) -> None:
    meta = getattr(model, "meta", None)
    if meta is None:
        return
    setattr(getattr(meta.ref_file, reftype), "name", name)
    if context is not None:
        meta.ref_file.crds.context_used = context
        meta.ref_file.crds.sw_version = crds_client.crds_version()


# ----------------------------------------------------------------------- reference files
def get_reference_file(step: StepBase, model: DataModel, reftype: str) -> str:
    """Return the reference file of type ``reftype`` that ``step`` should use for ``model``.

    Parameters
    ----------
    step : StepBase
        The step asking; its ``override_<reftype>`` parameter is honoured and its
        name appears in messages.
    model : DataModel
        The data to calibrate; its metadata selects the file.
    reftype : str
        The reference type, e.g. ``"gain"`` (any case).

    Returns
    -------
    str
        A local path, or ``"N/A"`` when no reference file of this type applies
        to these data (the step then skips itself). When ``override_<reftype>``
        is an opened reference model, that model is returned as it is
        (:func:`~pipeline_core.datamodels.open_model` passes models through).

    Raises
    ------
    ReferenceFileError
        When an override or a plugin names a missing, unreadable or wrong-type
        file, when CRDS has no rule for the data (the message lists the metadata
        used), or when CRDS is not configured.

    Examples
    --------
    >>> path = step.get_reference_file(model, "gain")  # doctest: +SKIP
    >>> model.meta.ref_file.gain.name  # doctest: +SKIP
    'crds://jwst_nircam_gain_0005.fits'
    """
    reftype = reftype.lower()
    logger = _step_log(step)

    override = getattr(step, f"override_{reftype}", None)
    if override is not None and hasattr(override, "meta") and hasattr(override, "save"):
        return _model_override(step, model, reftype, override, logger)
    if override is not None and not isinstance(override, (str, os.PathLike)):
        raise ReferenceFileError(
            f"{_step_label(step)}: override_{reftype} must be the path of a {reftype.upper()} "
            f"reference file (or 'N/A'), got a {type(override).__name__}: {override!r}."
        )
    if override is not None and os.fspath(override).strip():
        path = os.fspath(override).strip()
        if path.upper() == NOT_APPLICABLE:
            logger.info("%s reference file: N/A (override_%s)", reftype.upper(), reftype)
            _record(model, reftype, NOT_APPLICABLE, None)
            return NOT_APPLICABLE
        _check_given_file(step, reftype, path, f"override_{reftype}")
        logger.info("%s reference file: %s (override_%s)", reftype.upper(), path, reftype)
        _record(model, reftype, path, None)
        return path

    from pipeline_core.plugins.manager import registry

    answer = registry().hook.get_reference_file(step=step, model=model, reftype=reftype)
    if answer is not None:
        path = os.fspath(answer)
        if path.upper() == NOT_APPLICABLE:
            logger.info("%s reference file: N/A (from a plugin)", reftype.upper())
            _record(model, reftype, NOT_APPLICABLE, None)
            return NOT_APPLICABLE
        _check_given_file(step, reftype, path, "the get_reference_file plugin hook")
        logger.info("%s reference file: %s (from a plugin)", reftype.upper(), path)
        _record(model, reftype, path, None)
        return path

    return _from_crds(step, model, reftype, logger)


def _model_override(step: Any, model: Any, reftype: str, ref: Any, logger: logging.Logger) -> Any:
    """An override given as an opened reference model: check its type, record, return it."""
    declared = (ref.meta.reftype or "").strip().lower()
    name = ref.meta.filename or f"<{type(ref).__name__} in memory>"
    if declared and declared != reftype:
        raise ReferenceFileError(
            f"{_step_label(step)}: override_{reftype} is a {declared.upper()} reference model "
            f"('{name}'), but a {reftype.upper()} one is needed here. Give a {reftype.upper()} "
            "reference file or model."
        )
    logger.info("%s reference file: %s (override_%s)", reftype.upper(), name, reftype)
    _record(model, reftype, name, None)
    return ref


def _from_crds(step: Any, model: Any, reftype: str, logger: logging.Logger) -> str:
    parameters = _crds_parameters(step, model, reftype)
    label = _step_label(step)
    try:
        refs, context, settings = crds_client.lookup(parameters, [reftype])
    except ReferenceFileError as error:
        raise ReferenceFileError(
            f"{label}: cannot look up the {reftype.upper()} reference file: {error}"
        ) from error
    except Exception as error:
        if not crds_client.is_lookup_error(error):
            raise
        raise _explain_lookup_failure(step, reftype, parameters, error) from error
    value = refs.get(reftype, "NOT FOUND")
    if value.upper().startswith("NOT FOUND"):
        reason = value[len("NOT FOUND") :].strip()
        if reason.upper() == "N/A":
            logger.info(
                "%s reference file: N/A for these data (CRDS context %s)", reftype.upper(), context
            )
            _record(model, reftype, NOT_APPLICABLE, context)
            return NOT_APPLICABLE
        raise _no_match(step, reftype, parameters, reason, context)
    logger.info(
        "%s reference file: %s (CRDS context %s, cache %s)",
        reftype.upper(),
        value,
        context,
        settings.path,
    )
    _record(model, reftype, f"crds://{os.path.basename(value)}", context)
    return value


def _explain_lookup_failure(
    step: Any, reftype: str, parameters: Mapping[str, Any], error: BaseException
) -> ReferenceFileError:
    """Turn a crds error into a message naming the step, the type, the metadata and a fix."""
    label = _step_label(step)
    described = _describe(parameters)
    fix = (
        f"Set override_{reftype} to a {reftype.upper()} reference file, or use a context "
        "(CRDS_CONTEXT) whose rules cover these data"
    )
    if crds_client.is_unknown_instrument(error):
        return ReferenceFileError(
            f"{label}: no {reftype.upper()} reference file: the CRDS context has no rules for "
            f"instrument {parameters.get('META.INSTRUMENT.NAME')!r} ({error}). Metadata used: "
            f"{described}. {fix}."
        )
    try:
        recommended = crds_client.recommendations(parameters, [reftype]).get(reftype, "")
    except Exception:  # the precise reason is a bonus; the original error is chained
        recommended = ""
    if recommended and not recommended.upper().startswith("NOT FOUND"):
        try:
            cache = crds_client.current_settings().path
        except ReferenceFileError:  # pragma: no cover - the lookup got past this point
            cache = "the CRDS cache"
        return ReferenceFileError(
            f"{label}: CRDS selects the {reftype.upper()} reference file {recommended!r} for "
            f"{described}, but it is not in {cache} and could not be fetched ({error}). Sync the "
            "cache from a CRDS server (CRDS_SERVER_URL), or set "
            f"override_{reftype} to a local file."
        )
    if recommended.upper().startswith("NOT FOUND"):
        return _no_match(step, reftype, parameters, recommended[len("NOT FOUND") :], None)
    settings = os.environ.get("CRDS_PATH") or "the default reference cache"
    return ReferenceFileError(
        f"{label}: CRDS could not look up the {reftype.upper()} reference file for {described}: "
        f"{type(error).__name__}: {error}. Check the CRDS settings (CRDS_PATH: {settings}; "
        f"CRDS_CONTEXT: {os.environ.get('CRDS_CONTEXT') or 'not set'}), or set "
        f"override_{reftype} to a local file."
    )


def _no_match(
    step: Any, reftype: str, parameters: Mapping[str, Any], reason: str, context: str | None
) -> ReferenceFileError:
    """The error for data that no rule of the context covers."""
    reason = reason.strip().rstrip(".") or "no match found"
    summary = crds_client.rules_summary(str(parameters.get("META.INSTRUMENT.NAME", "")), reftype)
    rules = f" CRDS rules: {summary}." if summary else ""
    in_context = f" in context {context}" if context else ""
    return ReferenceFileError(
        f"{_step_label(step)}: CRDS has no {reftype.upper()} reference file{in_context} matching "
        f"{_describe(parameters)}: {reason}.{rules} Set override_{reftype} to a "
        f"{reftype.upper()} reference file, or use a context (CRDS_CONTEXT) whose rules cover "
        "these data."
    )


# -------------------------------------------------------------------- step parameters
def crds_steppars_disabled() -> bool:
    """Tell whether ``STPIPE_DISABLE_CRDS_STEPPARS`` turns CRDS step parameters off.

    Returns
    -------
    bool
        True for ``1``, ``true``, ``yes`` (any case, surrounding blanks ignored).
    """
    return parse_truth(os.environ.get(DISABLE_STEPPARS_ENV, "")) is True


def get_step_parameters(step_class: type, model: DataModel) -> dict[str, Any]:
    """Return the parameters CRDS recommends for ``step_class`` on ``model``.

    The reference type is ``pars-<class name in lower case>``: a step class named
    like its JWST counterpart (``JumpStep``) reads the JWST parameter files
    (``pars-jumpstep``).

    Parameters
    ----------
    step_class : type
        The step or pipeline class.
    model : DataModel
        The input data; its metadata selects the file.

    Returns
    -------
    dict
        The file's content in the stpipe layout: ``class``, ``name``,
        ``parameters`` and, for a pipeline, ``steps`` (a list of
        ``{class, name, parameters}``). Empty when ``STPIPE_DISABLE_CRDS_STEPPARS``
        is true, when the data have no instrument, when CRDS is not configured,
        or when the context has no such type or says N/A.

    Raises
    ------
    ReferenceFileError
        When CRDS names a parameter file that cannot be read.
    """
    if crds_steppars_disabled():
        return {}
    getter = getattr(model, "get_crds_parameters", None)
    if getter is None:
        return {}
    reftype = f"pars-{step_class.__name__.lower()}"
    parameters = {k: v for k, v in getter().items() if isinstance(k, str) and k.startswith("META.")}
    if "META.INSTRUMENT.NAME" not in parameters:
        return {}
    try:
        refs, context, _ = crds_client.lookup(parameters, [reftype])
    except ReferenceFileError as error:
        log.info("No CRDS parameters for %s: %s", step_class.__name__, error)
        return {}
    except Exception as error:
        if not crds_client.is_lookup_error(error):
            raise
        log.info("No CRDS parameters for %s (%s): %s", step_class.__name__, reftype, error)
        return {}
    path = refs.get(reftype, "NOT FOUND")
    if path.upper().startswith("NOT FOUND"):
        log.info("No CRDS parameters for %s (%s): %s", step_class.__name__, reftype, path)
        return {}
    from pipeline_core.config.parfile import config_from_tree, config_to_tree, to_plain

    try:
        raw = _read_asdf_tree(path)
        tree = {k: to_plain(v) for k, v in raw.items() if k not in ("asdf_library", "history")}
        tree = config_to_tree(config_from_tree(tree, source=path))
    except (OSError, ValueError) as error:  # ParameterError is a ValueError
        raise ReferenceFileError(
            f"the CRDS parameter reference file '{path}' ({reftype}, context {context}) for "
            f"{step_class.__name__} cannot be used: {error}. Set {DISABLE_STEPPARS_ENV}=1 to run "
            "without CRDS parameters."
        ) from error
    log.info("Parameters of %s from CRDS file %s (context %s)", step_class.__name__, path, context)
    return tree


# ------------------------------------------------------------------------ shape check
def _pixel_shape(model: Any) -> tuple[int, int] | None:
    for name in _PIXEL_ARRAYS:
        array = getattr(model, name, None)
        if array is not None and getattr(array, "ndim", 0) >= 2:
            return tuple(array.shape[-2:])  # type: ignore[return-value]
    return None


def _window(model: Any) -> tuple[str, int, int]:
    """(subarray name, xstart, ystart) of a model, full-frame 1-based; default corner."""
    sub = model.meta.subarray
    return (sub.name or "?", int(sub.xstart or 1), int(sub.ystart or 1))


def check_reference_type(step: Any, ref_model: Any, reftype: str) -> None:
    """Refuse a reference model whose ``REFTYPE`` declares another type.

    Parameters
    ----------
    step : StepBase
        The step the reference is for (named in the error).
    ref_model : DataModel
        The opened reference file; a file without ``REFTYPE`` passes.
    reftype : str
        The reference type the step asked for, e.g. ``"gain"``.

    Raises
    ------
    ReferenceFileError
        When ``meta.reftype`` names another type.
    """
    declared = (ref_model.meta.reftype or "").strip().lower()
    if declared and declared != reftype.lower():
        name = ref_model.meta.filename or "<in memory>"
        raise ReferenceFileError(
            f"{_step_label(step)}: '{name}' is a {declared.upper()} reference file (REFTYPE="
            f"{declared.upper()!r}), not {reftype.upper()}. Give a {reftype.upper()} reference "
            f"file (override_{reftype})."
        )


def check_reference_shape(
    step: StepBase, reftype: str, ref_model: DataModel, science_model: DataModel
) -> DataModel:
    """Check a reference file against the data it calibrates; cut it to the data's pixels.

    Parameters
    ----------
    step : StepBase
        The step (named in errors).
    reftype : str
        The reference type the file was opened as (e.g. ``"superbias"``).
    ref_model : DataModel
        The opened reference file.
    science_model : DataModel
        The data.

    Returns
    -------
    DataModel
        ``ref_model`` itself when it has the data's shape; when the reference is
        larger (a full-frame file for subarray data) a copy cut to the data's
        subarray (``meta.subarray`` updated), as the JWST pipeline does.

    Raises
    ------
    ReferenceFileError
        When the file's ``REFTYPE`` is another type, or its pixels do not cover the
        data's (another subarray, a smaller file, or a different position).
    """
    label = _step_label(step)
    name = ref_model.meta.filename or "<in memory>"
    check_reference_type(step, ref_model, reftype)
    sci_shape = _pixel_shape(science_model)
    ref_shape = _pixel_shape(ref_model)
    if sci_shape is None or ref_shape is None:
        raise ReferenceFileError(
            f"{label}: cannot compare the {reftype.upper()} reference file '{name}' with the data: "
            f"{'the data have' if sci_shape is None else 'the reference file has'} no pixel array."
        )
    sci_name, sci_x, sci_y = _window(science_model)
    ref_name, ref_x, ref_y = _window(ref_model)
    x0, y0 = sci_x - ref_x, sci_y - ref_y
    fits_inside = (
        x0 >= 0
        and y0 >= 0
        and x0 + sci_shape[1] <= ref_shape[1]
        and y0 + sci_shape[0] <= ref_shape[0]
    )
    if not fits_inside:
        raise ReferenceFileError(
            f"{label}: the {reftype.upper()} reference file '{name}' covers {ref_shape[1]}x"
            f"{ref_shape[0]} pixels (subarray {ref_name} at x={ref_x}, y={ref_y}) but the data "
            f"are {sci_shape[1]}x{sci_shape[0]} pixels (subarray {sci_name} at x={sci_x}, "
            f"y={sci_y}); it cannot calibrate them. Give a reference file for subarray "
            f"{sci_name} (override_{reftype}), or check the data's META.SUBARRAY keywords."
        )
    if ref_shape == sci_shape:
        return ref_model
    cut = ref_model.copy()
    rows, cols = slice(y0, y0 + sci_shape[0]), slice(x0, x0 + sci_shape[1])
    for attr in _PIXEL_ARRAYS:
        array = getattr(ref_model, attr, None)
        if array is not None and getattr(array, "ndim", 0) >= 2 and array.shape[-2:] == ref_shape:
            setattr(cut, attr, array[..., rows, cols].copy())
    sub = cut.meta.subarray
    sub.name, sub.xstart, sub.ystart = science_model.meta.subarray.name, sci_x, sci_y
    sub.xsize, sub.ysize = sci_shape[1], sci_shape[0]
    _step_log(step).info(
        "Cut the %s reference file %s (%s) to the data's subarray %s",
        reftype.upper(),
        name,
        ref_name,
        sci_name,
    )
    return cut
