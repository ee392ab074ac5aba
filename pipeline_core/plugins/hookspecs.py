"""The plugin contract of steppe: the pluggy hook specifications.

A plugin is a module (or any object) whose functions are decorated with
:data:`hookimpl` and named after one of the hooks below. It is found through an
entry point in the group ``pipeline_core.plugins``::

    [project.entry-points."pipeline_core.plugins"]
    my_steps = "my_package.plugin"

Every hook is called with keyword arguments. An implementation may accept any
subset of a hook's arguments, in any order: adding an argument to a hook later
breaks no plugin, while renaming or removing one would. steppe calls each
implementation on its own, so that one plugin that raises is reported as a
warning naming its distribution and does not stop the others. Wrapper
implementations (``wrapper=True`` / ``hookwrapper=True``) are not supported.

Hooks marked *firstresult* stop at the first implementation that returns a
value other than ``None``; that value is the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.datamodels import DataModel
    from pipeline_core.plugins.descriptor import StepBase as Step
    from pipeline_core.plugins.descriptor import StepDescriptor

__all__ = [
    "PROJECT_NAME",
    "hookspec",
    "hookimpl",
    "register_steps",
    "get_reference_file",
    "step_started",
    "step_finished",
    "default_crds_cache",
    "prepare_demo",
]

#: The pluggy project name shared by the hook specifications and implementations.
PROJECT_NAME = "pipeline_core"

#: Marker of the hook specifications below (used by steppe itself).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

#: Marker a plugin puts on its hook implementations: ``@hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --------------------------------------------------------------------------------------
# Registration: called once, when the registry is first used.
# --------------------------------------------------------------------------------------


@hookspec
def register_steps() -> list[StepDescriptor | dict[str, Any]]:
    """Declare the steps and pipelines a plugin provides.

    Called once per plugin, the first time the registry is used (listing,
    resolving a name, running a step). The answer is plain data: the step
    classes are *not* imported until a step is actually resolved, so listing the
    steps or resolving one name stays cheap.

    Returns
    -------
    list of StepDescriptor or dict
        One entry per step class. A dict has the keys of
        :class:`~pipeline_core.plugins.manager.StepDescriptor`: ``class_path``
        (required, ``"package.module.ClassName"``), ``alias`` (short name such
        as ``"jump"``, or ``None``), ``legacy_class_paths`` (other class paths
        that name this step, e.g. ``["jwst.jump.jump_step.JumpStep"]``),
        ``is_pipeline`` and ``parallel`` (booleans). The distribution name and
        version are filled in by the registry from the plugin's entry point.

    Notes
    -----
    Aliases and class paths must be unique across installed distributions;
    two distributions claiming the same one make that name ambiguous, and
    resolving it raises :class:`~pipeline_core.errors.PluginError` naming both
    (``"dist::alias"`` picks one).
    """


# --------------------------------------------------------------------------------------
# Configuration: called while a step prepares to run.
# --------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def get_reference_file(step: Step, model: DataModel, reftype: str) -> str | None:
    """Supply the calibration reference file a step needs.

    Called by :meth:`Step.get_reference_file <pipeline_core.steps.step.Step.get_reference_file>`
    when no ``override_<reftype>`` parameter is set, before CRDS is asked.

    firstresult: the first non-None answer wins.

    Parameters
    ----------
    step : Step
        The step asking (its ``name``, ``class_alias`` and parameters are available).
    model : DataModel
        The science data being calibrated; its ``meta`` selects the file.
    reftype : str
        Lower-case reference type, e.g. ``"gain"``, ``"readnoise"``, ``"mask"``.

    Returns
    -------
    str or None
        A path to the reference file, ``"N/A"`` when this reference type does
        not apply (the step is then skipped), or ``None`` to let the next plugin
        or CRDS answer.
    """


@hookspec(firstresult=True)
def default_crds_cache() -> str | None:
    """Name a local CRDS cache to use when ``CRDS_PATH`` is not set.

    Called once per process when steppe first needs CRDS and the environment
    does not configure it. Lets a plugin ship an offline reference set.

    firstresult: the first non-None answer wins.

    Returns
    -------
    str or None
        Path of a folder laid out as a CRDS cache (``config/``, ``mappings/``,
        ``references/``), or ``None`` to leave the decision to others.
    """


# --------------------------------------------------------------------------------------
# Execution: called around every step run.
# --------------------------------------------------------------------------------------


@hookspec
def step_started(step: Step, input: Any) -> None:
    """Observe a step starting.

    Called by :meth:`Step.run <pipeline_core.steps.step.Step.run>` after the input is
    opened and before the step's ``process()`` (also for skipped steps). Use it
    for progress reports, provenance or timing; do not modify the input.

    Parameters
    ----------
    step : Step
        The configured step instance about to run.
    input : object
        The step's input: a data model, a tuple of models or a path.
    """


@hookspec
def step_finished(step: Step, result: Any, elapsed: float) -> None:
    """Observe a step finishing.

    Called by :meth:`Step.run <pipeline_core.steps.step.Step.run>` once the result is
    complete (and saved, when ``save_results`` is set).

    Parameters
    ----------
    step : Step
        The step instance that ran.
    result : object
        What the step returned.
    elapsed : float
        Wall-clock duration of the run, in seconds.
    """


# --------------------------------------------------------------------------------------
# Command line: ``steppe demo``.
# --------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def prepare_demo(directory: str, instrument: str) -> dict[str, Any] | None:
    """Offer demonstration data for ``steppe demo``.

    Called by ``steppe demo``; the pipeline named in the answer is then run on
    each input with ``save_results=True`` and ``output_dir=directory``, and each
    stage named in ``then`` (optional) runs on the products the stage before it
    saved. A stage of ``then`` is a name (run on each product) or a dict:

    * ``pipeline``: the step or pipeline to run (required);
    * ``combine``: a product name; the stage runs once, on the JWST association
      ``<combine>_asn.json`` that ``steppe demo`` writes in ``directory`` (one
      product of that name whose ``science`` members are all the products of
      the stage before);
    * ``asn_type``: that association's type (default ``"image3"``);
    * ``parameters``: keyword arguments of the run (``{"steps": {...}}``);
    * ``show``: ``True`` draws a quick-look PNG of each product of the stage (as
      ``steppe show``); a suffix such as ``"cat.ecsv"`` also circles the sources
      of the catalog ``<product name>_<suffix>`` written beside it (as
      ``steppe show --catalog``). ``steppe demo`` prints where the product, the
      catalog and the picture are.

    firstresult: the first non-None answer wins.

    Parameters
    ----------
    directory : str
        An existing folder where the demo inputs (and anything they need) are written.
    instrument : str
        The instrument asked for (``steppe demo --instrument``, lower case;
        ``"nircam"`` by default). A plugin without a demo for it returns ``None``
        or raises an error naming the instruments it has.

    Returns
    -------
    dict or None
        ``{"pipeline": "calwebb_detector1", "inputs": [path, ...], "then":
        ["calwebb_image2", {"pipeline": "calwebb_image3", "combine":
        "jw09999-o001_t001_nircam_clear-f200w", "show": "cat.ecsv"}],
        "description": "one line"}``, or ``None``
        when the plugin has no demo.
    """
