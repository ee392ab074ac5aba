"""From a name or a parameter file to the step class it means.

Every caller that turns a user's name into a step class goes through here or
through :meth:`pipeline_core.plugins.Registry.resolve`: parameter files
(:func:`target_class`), the step lists of generic pipelines
(:func:`step_defs_from_config`), ``pre_hooks``/``post_hooks`` and ``steps=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline_core.config.parfile import GENERIC_PIPELINE_NAMES, StepConfig
from pipeline_core.errors import ParameterError, PluginError
from pipeline_core.plugins import registry
from pipeline_core.plugins.descriptor import GENERIC_PIPELINE

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.steps.step import Step

__all__ = ["generic_pipeline", "step_defs_from_config", "target_class"]


def _matches_loosely(cls: type[Step], class_name: str | None, name: str | None) -> bool:
    """Whether a file's ``class``/``name`` plainly refers to ``cls`` (no registry needed)."""
    if class_name:
        if class_name in (cls.class_path(), cls.class_alias, *cls.legacy_class_paths):
            return True
        if class_name.rsplit(".", 1)[-1] == cls.__name__:
            return True
    return bool(name) and name in (cls.class_alias, cls.__name__)


def target_class(
    requested: type[Step], config: StepConfig | None, *, step_base: type[Step]
) -> tuple[type[Step], dict[str, type[Step]] | None]:
    """Pick the class a parameter file configures.

    Parameters
    ----------
    requested : type
        The class the file is applied to. :class:`~pipeline_core.steps.step.Step` or the
        generic :class:`~pipeline_core.steps.pipeline.Pipeline` mean "the class the file
        names" (resolved through the registry); a concrete class means "this class",
        and the file must name it (its class path, alias, a legacy class path, the
        same class name, or a registered name resolving to it or a base class).
    config : StepConfig or None
        The file; ``None`` returns ``requested``.
    step_base : type
        :class:`~pipeline_core.steps.step.Step` itself (passed in, so that this
        module does not import the module that imports it).

    Returns
    -------
    cls : type
        The step class to build.
    step_defs : dict or None
        For a generic pipeline, its steps (from the file's ``steps`` list).

    Raises
    ------
    ParameterError
        If the file names another class or an unregistered one (which is never
        imported).
    """
    if config is None:
        return requested, None
    Pipeline = generic_pipeline()
    Step = step_base
    source, class_name = config.source, config.class_name
    generic = class_name in GENERIC_PIPELINE_NAMES
    if requested is Step or requested is Pipeline:
        if generic:
            return Pipeline, step_defs_from_config(config)
        try:
            target = registry().resolve(class_name)
        except PluginError as exc:
            raise ParameterError(
                f"parameter file {source!r} names class {class_name!r}, which cannot be used: {exc}"
            ) from exc
        if not issubclass(target, requested):
            raise ParameterError(
                f"parameter file {source!r} names {class_name!r}, a step, not a pipeline; "
                "load it with Step.from_config_file"
            )
        if target is Pipeline:
            return Pipeline, step_defs_from_config(config)
        return target, None
    if not generic and _matches_loosely(requested, class_name, config.name):
        return requested, None
    try:
        target = registry().resolve(class_name) if class_name else None
    except PluginError:
        target = None
    if target is not None and (target is requested or issubclass(requested, target)):
        return requested, None
    builder = "Pipeline" if issubclass(requested, Pipeline) else "Step"
    raise ParameterError(
        f"parameter file {source!r} is for class {class_name!r} (name {config.name!r}), "
        f"not for {requested.class_path()}; give a parameter file for "
        f"{requested.class_alias or requested.__name__}, or call {builder}.from_config_file "
        "to build the class the file names"
    )


def generic_pipeline() -> type[Step]:
    """Return the generic :class:`~pipeline_core.steps.pipeline.Pipeline` class.

    It is registered by the framework itself, so the registry imports it on
    demand; the step module need not import the pipeline module that builds on it.
    """
    return registry().resolve(GENERIC_PIPELINE)  # type: ignore[return-value]


def step_defs_from_config(config: StepConfig) -> dict[str, type[Step]]:
    """Build the steps of a generic pipeline from its parameter file's ``steps`` list.

    Parameters
    ----------
    config : StepConfig
        The parameter file; every entry of its ``steps`` needs ``class`` and ``name``.

    Returns
    -------
    dict of str to type
        Step names to classes, in list order.

    Raises
    ------
    ParameterError
        If an entry has no class or names an unregistered one; every problem is
        listed, with the file.
    """
    problems = []
    defs: dict[str, type[Step]] = {}
    for position, entry in enumerate(config.steps):
        if not entry.class_name:
            problems.append(f"steps[{position}] ({entry.name!r}) has no `class`; name its step class")
            continue
        try:
            defs[entry.name or entry.class_name] = registry().resolve(entry.class_name)
        except PluginError as exc:
            problems.append(f"steps[{position}] ({entry.name!r}): {exc}")
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ParameterError(
            f"parameter file {config.source!r} defines a pipeline whose steps cannot be built:\n{listing}"
        )
    return defs
