"""``steppe demo``: the stages of a plugin's demonstration and what they need.

A plugin answers the ``prepare_demo`` hook with a plan (see
:func:`pipeline_core.plugins.hookspecs.prepare_demo`): the inputs it wrote, the
first pipeline, and the stages that follow (``then``). :func:`demo_plan` checks
that answer; :func:`run_stage` runs one stage, either on each input or, for a
stage that ``combine``\\ s, once on a JWST level-3 association of all of them
(:func:`write_association`); :func:`show_stage_products` draws the quick-look of a
stage's products with ``steppe show``, marking the sources of their catalog.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from pipeline_core.errors import PluginError
from pipeline_core.output import atomic_write

__all__ = ["DemoStage", "DemoPlan", "demo_plan", "write_association", "run_stage", "show_stage_products"]

_STAGE_KEYS = ("pipeline", "combine", "asn_type", "parameters", "show")


@dataclass(frozen=True)
class DemoStage:
    """One stage of a demonstration.

    Parameters
    ----------
    pipeline : str
        The step or pipeline to run (any name the registry resolves).
    combine : str or None
        None: run on each input. A product name: run once, on the association
        ``<combine>_asn.json`` of all the inputs, written in the demo folder.
    asn_type : str
        The association's ``asn_type`` (``"image3"`` by default).
    parameters : dict
        Keyword arguments of the run (step parameters, ``steps={...}``).
    show : str or bool
        False: no picture. True: a quick-look PNG of each product of the stage.
        A catalog suffix such as ``"cat.ecsv"``: also circle the sources of the
        catalog ``<product name>_<suffix>`` written beside the product.
    """

    pipeline: str
    combine: str | None = None
    asn_type: str = "image3"
    parameters: dict[str, Any] = field(default_factory=dict)
    show: str | bool = False


@dataclass(frozen=True)
class DemoPlan:
    """A checked ``prepare_demo`` answer: the inputs, the stages in order, the description."""

    inputs: list[str]
    stages: list[DemoStage]
    description: str = ""


def _bad(answer: Any, problem: str) -> PluginError:
    return PluginError(
        f"prepare_demo returned {answer!r}: {problem}; it must return a dict with 'pipeline' (a "
        "name), 'inputs' (a list of paths) and optionally 'description' and 'then' (a list of "
        "pipeline names or of dicts with the keys " + ", ".join(repr(k) for k in _STAGE_KEYS) + ")"
    )


def _stage(answer: Any, entry: Any) -> DemoStage:
    if isinstance(entry, str):
        return DemoStage(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("pipeline"), str):
        raise _bad(answer, f"the stage {entry!r} is neither a name nor a dict with a 'pipeline' name")
    unknown = sorted(set(entry) - set(_STAGE_KEYS))
    if unknown:
        raise _bad(answer, f"the stage {entry!r} has unknown key(s) {unknown}")
    combine = entry.get("combine")
    if combine is not None and (not isinstance(combine, str) or not combine or os.sep in combine):
        raise _bad(answer, f"'combine' of the stage {entry['pipeline']!r} is {combine!r}, not a product name")
    parameters = entry.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise _bad(answer, f"'parameters' of the stage {entry['pipeline']!r} is {parameters!r}, not a dict")
    show = entry.get("show", False)
    if not isinstance(show, (str, bool)):
        raise _bad(answer, f"'show' of the stage {entry['pipeline']!r} is {show!r}, not a bool or a suffix")
    return DemoStage(entry["pipeline"], combine, str(entry.get("asn_type") or "image3"), parameters, show)


def demo_plan(answer: Any) -> DemoPlan:
    """Check a ``prepare_demo`` answer and return its plan.

    Parameters
    ----------
    answer : dict
        What the hook returned.

    Returns
    -------
    DemoPlan

    Raises
    ------
    PluginError
        If the answer is not a dict with a ``pipeline`` name and an ``inputs``
        list, or a stage of ``then`` is malformed (the message shows the answer
        and the layout expected).
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("pipeline"), str):
        raise _bad(answer, "no 'pipeline' name")
    inputs = answer.get("inputs")
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise _bad(answer, "no 'inputs' list")
    then = answer.get("then", ())
    if isinstance(then, (str, dict)) or not isinstance(then, (list, tuple)):
        raise _bad(answer, "'then' is not a list")
    stages = [DemoStage(answer["pipeline"]), *(_stage(answer, entry) for entry in then)]
    return DemoPlan([os.fspath(path) for path in inputs], stages, str(answer.get("description") or ""))


def write_association(
    path: str | os.PathLike[str], product: str, members: Sequence[str], asn_type: str = "image3"
) -> str:
    """Write a JWST association file of one product whose members are all science exposures.

    The layout is that of the JWST associations (``asn_type``, ``asn_rule``,
    ``asn_id``, ``asn_pool``, ``products`` with ``name`` and ``members`` of
    ``expname`` and ``exptype``); member names are relative to the file's folder
    when they are in it.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.json`` file to write (atomically).
    product : str
        The product's name; its outputs are ``<product>_<suffix>``.
    members : sequence of str
        The exposures' files.
    asn_type : str, optional
        ``"image3"`` by default.

    Returns
    -------
    str
        The path written.
    """
    from pipeline_core._version import steppe_version

    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))

    def name(member: str) -> str:
        full = os.path.abspath(member)
        return os.path.basename(full) if os.path.dirname(full) == folder else full

    tree = {
        "asn_type": asn_type,
        "asn_rule": "DMS_Level3_Base",
        "version_id": None,
        "code_version": f"steppe {steppe_version()}",
        "degraded_status": "No known degraded exposures in association.",
        "program": "",
        "constraints": "none",
        "asn_id": "a3001",
        "target": "none",
        "asn_pool": "none",
        "products": [
            {"name": product,
             "members": [{"expname": name(m), "exptype": "science", "exposerr": None} for m in members]}
        ],
    }
    with atomic_write(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(tree, handle, indent=4)
            handle.write("\n")
    return target


def _saved(result: Any, directory: str) -> list[str]:
    """The files of ``directory`` that hold the models a run returned."""
    found = []
    for item in result if isinstance(result, (list, tuple)) else [result]:
        name = getattr(getattr(item, "meta", None), "filename", None)
        if name and os.path.exists(os.path.join(directory, name)):
            found.append(os.path.join(directory, name))
    return found


def run_stage(stage: DemoStage, step_class: Any, inputs: Sequence[str], directory: str,
              out: TextIO) -> list[str]:
    """Run one stage of a demonstration and return the products it saved.

    Parameters
    ----------
    stage : DemoStage
        The stage.
    step_class : type
        Its resolved step or pipeline class.
    inputs : sequence of str
        The demo inputs, or the products of the stage before.
    directory : str
        The demo folder (``output_dir`` of the run).
    out : text stream
        Where to say what runs.

    Returns
    -------
    list of str
        The files of the models the run returned, in the input order.

    Raises
    ------
    PluginError
        If a combining stage has no inputs (the stage before saved nothing).
    """
    options = {**stage.parameters, "save_results": True, "output_dir": directory}
    if stage.combine is None:
        products: list[str] = []
        for path in inputs:
            out.write(f"steppe demo: running {stage.pipeline} on {path}\n")
            products.extend(_saved(step_class.call(path, **options), directory))
        return products
    if not inputs:
        raise PluginError(
            f"steppe demo: the stage {stage.pipeline!r} combines the products of the stage before "
            "it, which saved none"
        )
    asn = write_association(os.path.join(directory, f"{stage.combine}_asn.json"), stage.combine,
                            inputs, stage.asn_type)
    out.write(f"steppe demo: wrote the association {asn} ({len(inputs)} members)\n")
    out.write(f"steppe demo: running {stage.pipeline} on {asn}\n")
    return _saved(step_class.call(asn, **options), directory)


def show_stage_products(stage: DemoStage, products: Sequence[str]) -> list[tuple[str, str | None, Any]]:
    """Draw the quick-look of each product of a stage that asks for pictures.

    Parameters
    ----------
    stage : DemoStage
        The stage (nothing is drawn when its ``show`` is False).
    products : sequence of str
        The files it saved.

    Returns
    -------
    list of (str, str or None, QuickLook)
        Each product, its catalog (None when the stage asks for none or did not
        write it), and what was drawn.
    """
    from pipeline_core.cli.show import render_quicklook
    from pipeline_core.output import split_ext

    if stage.show is False:
        return []
    drawn = []
    for product in products:
        catalog = None
        if isinstance(stage.show, str):
            stem = split_ext(product)[0]
            catalog = f"{stem.rpartition('_')[0] or stem}_{stage.show}"
            if not os.path.isfile(catalog):  # the stage made no catalog: draw the product alone
                catalog = None
        drawn.append((product, catalog, render_quicklook(product, catalog=catalog)))
    return drawn
