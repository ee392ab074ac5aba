"""``steppe info``: what made a product, read back from the product itself.

``steppe info PRODUCT.fits`` prints, from the product's metadata alone:

* the file, its model, the exposure, when it was written and by which software
  (``meta.steppe.software``, or ``CAL_VER`` for products of the JWST pipeline);
* the CRDS context and the reference file of each type (``meta.ref_file``);
* the status of each step (``meta.cal_step``);
* the step or pipeline that ran and each step's parameters
  (``meta.steppe.parameters``; the common parameters are shown only where they
  differ from their defaults), and what the configuration asked for that steppe
  does not provide (``meta.steppe.not_provided``).

The parameters block loads back as a parameter file (see
:mod:`pipeline_core.steps.provenance`); ``steppe info`` only lays it out for reading.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Mapping
from typing import Any, TextIO

__all__ = ["add_info_subparser", "describe_product", "run_info"]

_WIDTH = 88


def _common_defaults() -> dict[str, Any]:
    from pipeline_core.config.params import COMMON_SPEC, parse_spec

    return {k: spec.default for k, spec in parse_spec(COMMON_SPEC, owner="steppe").items()}


def _get(tree: Mapping[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _section(title: str, rows: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return []
    width = max(len(key) for key, _ in rows)
    lines = ["", title]
    for key, value in rows:
        lines.append(f"  {key:<{width}}  {value}")
    return lines


def _format_value(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _parameters_line(parameters: Mapping[str, Any], common: Mapping[str, Any], indent: str) -> list[str]:
    shown = [
        f"{key}={_format_value(value)}"
        for key, value in parameters.items()
        if key not in common or value != common[key]
    ]
    if not shown:
        return [f"{indent}(defaults)"]
    return textwrap.wrap(
        ", ".join(shown), width=_WIDTH, initial_indent=indent, subsequent_indent=indent,
        break_long_words=False, break_on_hyphens=False,
    )


def _steps_block(parameters: Mapping[str, Any], common: Mapping[str, Any]) -> list[str]:
    lines = ["", "parameters (meta.steppe.parameters; common ones only where not default)"]
    head = parameters.get("name") or parameters.get("class")
    lines.append(f"  {head} ({parameters.get('class')})")
    lines.extend(_parameters_line(parameters.get("parameters") or {}, common, "      "))
    for step in parameters.get("steps") or []:
        lines.append(f"    {step.get('name')} ({step.get('class')})")
        lines.extend(_parameters_line(step.get("parameters") or {}, common, "      "))
    return lines


def describe_product(path: str | os.PathLike[str]) -> str:
    """Return the readable account of what made a product.

    Parameters
    ----------
    path : str or os.PathLike
        A FITS or ASDF product (only its headers and metadata are read).

    Returns
    -------
    str
        The text ``steppe info`` prints.

    Raises
    ------
    DataModelError
        If the file cannot be opened as a data model.
    """
    from pipeline_core.datamodels import open_model

    text = os.fspath(path)
    with open_model(text, lazy=True) as model:
        meta = model.meta.to_dict()
        shape = tuple(model.shape or ())
        model_name = type(model).__name__
    steppe = meta.get("steppe") if isinstance(meta.get("steppe"), Mapping) else {}
    software = steppe.get("software") or {}
    if software:
        made_with = ", ".join(f"{name} {version}" for name, version in software.items())
    elif meta.get("calibration_software_version"):
        made_with = f"jwst {meta['calibration_software_version']} (no meta.steppe block)"
    else:
        made_with = "unknown (no meta.steppe block)"
    exposure = " ".join(
        str(v) for v in (
            _get(meta, "instrument.name"), _get(meta, "instrument.detector"),
            _get(meta, "exposure.type"), _get(meta, "subarray.name"),
        ) if v
    )
    parameters = steppe.get("parameters") if isinstance(steppe.get("parameters"), Mapping) else None
    ran = "-"
    if parameters:
        ran = f"{parameters.get('name')} ({parameters.get('class')})"
    head = [
        ("file", text),
        ("model", f"{model_name} {'x'.join(str(n) for n in shape) or '(no data)'}"),
        ("exposure", exposure or "-"),
        ("written", str(meta.get("date") or "-")),
        ("software", made_with),
        ("ran", ran),
    ]
    width = max(len(key) for key, _ in head)
    lines = [f"{key:<{width}}  {value}" for key, value in head]

    ref_file = meta.get("ref_file") if isinstance(meta.get("ref_file"), Mapping) else {}
    crds = ref_file.get("crds") or {}
    crds_rows = []
    if crds.get("context_used") or crds.get("sw_version"):
        crds_rows.append(("context", f"{crds.get('context_used', '-')} (crds {crds.get('sw_version', '-')})"))
    refs = [
        (reftype, str(entry["name"]))
        for reftype, entry in sorted(ref_file.items())
        if reftype != "crds" and isinstance(entry, Mapping) and entry.get("name")
    ]
    lines += _section("CRDS and reference files (meta.ref_file)", crds_rows + refs)

    cal_step = meta.get("cal_step") if isinstance(meta.get("cal_step"), Mapping) else {}
    lines += _section("steps (meta.cal_step)", [(k, str(v)) for k, v in cal_step.items()])

    if parameters:
        lines += _steps_block(parameters, _common_defaults())
    missing = steppe.get("not_provided") or {}
    rows = [(f"step {k}", str(v)) for k, v in (missing.get("steps") or {}).items()]
    rows += [
        (f"{step} parameters", ", ".join(f"{k}={_format_value(v)}" for k, v in values.items()))
        for step, values in (missing.get("parameters") or {}).items()
    ]
    lines += _section("asked for but not provided (meta.steppe.not_provided)", rows)
    return "\n".join(lines) + "\n"


def add_info_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Define ``steppe info``.

    Parameters
    ----------
    subparsers : argparse subparsers action
        The ``steppe`` command's subcommands.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "info",
        help="print what made a product (steps, parameters, reference files, versions)",
        description=(
            "Print what made a product, from its own metadata: software versions, CRDS "
            "context and reference files, each step's status, and the parameters used."
        ),
        allow_abbrev=False,
    )
    parser.add_argument("product", metavar="PRODUCT", help="a FITS or ASDF product")
    parser.add_argument("--debug", action="store_true", help="print the full traceback of an error")
    return parser


def run_info(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``steppe info``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (``product``).
    out, err : text stream
        Where to write.

    Returns
    -------
    int
        0.
    """
    out.write(describe_product(args.product))
    return 0
