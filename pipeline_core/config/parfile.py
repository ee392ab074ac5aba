"""ASDF parameter files in the stpipe layout.

A parameter file names a step class and gives some of its parameters; a pipeline's
file adds a ``steps`` list with one entry per step::

    class: jwst.pipeline.calwebb_detector1.Detector1Pipeline
    name: Detector1Pipeline
    parameters: {save_results: false}
    steps:
    - class: jwst.jump.jump_step.JumpStep
      name: jump
      parameters: {rejection_threshold: 12.0}

Older stpipe files, which put ``class``, ``name`` and a ``steps`` mapping (step
name to parameters) inside ``parameters``, are read too, as stpipe still does.
:func:`read_parameter_file` reads and checks the layout (every problem is reported at
once, as a :class:`~pipeline_core.errors.ParameterError` naming the file);
:func:`write_parameter_file` writes one atomically. Values are not checked against
the step's spec here: that happens when the step is built.
"""

from __future__ import annotations

import datetime
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline_core.errors import ParameterError
from pipeline_core.output import atomic_write

__all__ = [
    "GENERIC_PIPELINE_NAMES",
    "StepConfig",
    "read_parameter_file",
    "write_parameter_file",
    "config_from_tree",
    "config_to_tree",
    "layer_from_values",
    "to_plain",
]

#: Names under which parameter files refer to the generic, step-list defined pipeline.
GENERIC_PIPELINE_NAMES = ("pipeline_core.steps.pipeline.Pipeline", "pipeline_core.Pipeline")


@dataclass
class StepConfig:
    """The content of a parameter file, or of one entry of its ``steps`` list.

    Parameters
    ----------
    class_name : str or None
        The ``class`` entry: a class path, legacy class path or alias.
    name : str or None
        The ``name`` entry: the step's name (for a pipeline's step, the name that
        identifies it in the pipeline).
    parameters : dict
        The ``parameters`` entry.
    steps : list of StepConfig
        The ``steps`` entries (pipelines only).
    source : str
        Where it was read from, for messages (a path, or ``"<memory>"``).
    """

    class_name: str | None
    name: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    steps: list[StepConfig] = field(default_factory=list)
    source: str = "<memory>"

    def as_layer(self) -> dict[str, Any]:
        """Return the configuration as a layer for :func:`pipeline_core.config.params.merge_layers`.

        Returns
        -------
        dict
            The parameters, plus ``"steps"`` mapping each step's name to its layer.
        """
        layer = dict(self.parameters)
        if self.steps:
            layer["steps"] = {s.name: s.as_layer() for s in self.steps}
        return layer


def read_parameter_file(path: str | os.PathLike[str]) -> StepConfig:
    """Read an ASDF parameter file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    StepConfig
        The file's class, name, parameters and steps.

    Raises
    ------
    ParameterError
        If the file is missing, is not ASDF, or does not follow the layout (a
        missing ``class``, ``parameters`` that is not a mapping, ...). The message
        names the file and lists every problem.
    """
    text = os.fspath(path)
    if not os.path.isfile(text):
        raise ParameterError(
            f"parameter file {text!r} does not exist; give the path of an ASDF parameter file"
        )
    import warnings

    import asdf

    try:
        with warnings.catch_warnings():
            # a file written by a newer asdf names newer extensions; a parameter tree
            # is plain data, so that does not matter here
            warnings.simplefilter("ignore", asdf.exceptions.AsdfPackageVersionWarning)
            with asdf.open(text, lazy_load=False, memmap=False) as handle:
                tree = {key: to_plain(value) for key, value in handle.tree.items()
                        if key not in ("asdf_library", "history")}
    except Exception as exc:  # asdf and yaml raise many types; all mean "unreadable"
        raise ParameterError(
            f"parameter file {text!r} could not be read as ASDF "
            f"({type(exc).__name__}: {exc}); give an ASDF file with `class`, `name`, "
            "`parameters` and optionally `steps` (for example one written by export_config)"
        ) from exc
    return config_from_tree(tree, source=text)


def config_from_tree(tree: Any, *, source: str = "<memory>") -> StepConfig:
    """Check a parameter tree's layout and turn it into a :class:`StepConfig`.

    Parameters
    ----------
    tree : mapping
        The tree (``class``, ``name``, ``parameters``, ``steps``), or the older
        stpipe layout with ``class``, ``name`` and a ``steps`` mapping inside
        ``parameters``.
    source : str, optional
        Where it came from, for messages.

    Returns
    -------
    StepConfig

    Raises
    ------
    ParameterError
        Listing every layout problem, naming ``source``.
    """
    problems: list[str] = []
    if _is_legacy_tree(tree):
        tree = _from_legacy_tree(tree)
    config = _entry(tree, "", problems, top=True)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ParameterError(
            f"parameter file {source!r} does not follow the parameter file layout "
            f"(class, name, parameters, steps):\n{listing}"
        )
    assert config is not None
    _set_source(config, source)
    return config


def _is_legacy_tree(tree: Any) -> bool:
    """Whether a tree has the older stpipe layout (everything inside ``parameters``)."""
    if not isinstance(tree, Mapping) or "class" in tree or "steps" in tree:
        return False
    parameters = tree.get("parameters")
    return isinstance(parameters, Mapping) and "class" in parameters


def _from_legacy_tree(tree: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite the older stpipe layout into the current one.

    Older files put ``class``, ``name`` and a ``steps`` mapping (step name to that
    step's parameters, themselves with an optional ``class`` and ``steps``) inside
    ``parameters``; stpipe still reads them. Entries that are not mappings are
    left in place, so that the layout check reports them.
    """

    def entry(parameters: Mapping[str, Any], name: Any) -> dict[str, Any]:
        values = dict(parameters)
        node: dict[str, Any] = {"class": values.pop("class", None), "name": name}
        steps = values.pop("steps", None)
        node["parameters"] = values
        if isinstance(steps, Mapping):
            node["steps"] = [
                entry(sub, key) if isinstance(sub, Mapping) else {"name": key, "parameters": sub}
                for key, sub in steps.items()
            ]
        elif steps is not None:
            node["steps"] = steps
        if node["class"] is None:
            del node["class"]
        return node

    parameters = dict(tree["parameters"])
    rewritten = entry(parameters, parameters.pop("name", None))
    rewritten.update({key: value for key, value in tree.items() if key != "parameters"})
    return rewritten


def _set_source(config: StepConfig, source: str) -> None:
    config.source = source
    for step in config.steps:
        _set_source(step, source)


def _entry(tree: Any, where: str, problems: list[str], *, top: bool) -> StepConfig | None:
    # ``where`` is the entry's path with a trailing dot ("steps[0]."), ready to
    # prefix a key ("steps[0].class"); ``label`` names the entry itself.
    label = where.rstrip(".") or "the top level"
    if not isinstance(tree, Mapping):
        problems.append(f"{label} must be a mapping, got {type(tree).__name__}")
        return None
    class_name = tree.get("class")
    if class_name is None and top:
        problems.append(f"{label}: `class` is missing; name the step class (path or alias)")
    elif class_name is not None and not (isinstance(class_name, str) and class_name.strip()):
        problems.append(f"{where}class must be a non-empty string, got {class_name!r}")
    name = tree.get("name")
    if name is not None and not (isinstance(name, str) and name.strip()):
        problems.append(f"{where}name must be a non-empty string, got {name!r}")
    if not top and name is None:
        problems.append(f"{label}: `name` is missing; every step entry needs its name")
    parameters = tree.get("parameters")
    if parameters is None:
        parameters = {}
    elif not isinstance(parameters, Mapping):
        problems.append(
            f"{where}parameters must be a mapping of names to values, "
            f"got {type(parameters).__name__}"
        )
        parameters = {}
    else:
        bad = [k for k in parameters if not isinstance(k, str)]
        if bad:
            problems.append(f"{where}parameters has non-string names {bad!r}")
    steps: list[StepConfig] = []
    raw_steps = tree.get("steps")
    if raw_steps is not None:
        if not isinstance(raw_steps, list):
            problems.append(f"{where}steps must be a list of step entries, got {type(raw_steps).__name__}")
        else:
            seen: set[str] = set()
            for position, item in enumerate(raw_steps):
                child = _entry(item, f"{where}steps[{position}].", problems, top=False)
                if child is None:
                    continue
                if child.name in seen:
                    problems.append(f"{where}steps[{position}]: step name {child.name!r} is used twice")
                seen.add(child.name or "")
                steps.append(child)
    unknown = sorted(set(tree) - {"class", "name", "parameters", "steps", "meta"})
    if unknown:
        problems.append(
            f"{label}: unknown entries {unknown}; known: class, name, parameters, steps, meta"
        )
    return StepConfig(
        class_name=class_name if isinstance(class_name, str) else None,
        name=name if isinstance(name, str) else None,
        parameters=dict(parameters),
        steps=steps,
    )


def config_to_tree(config: StepConfig) -> dict[str, Any]:
    """Turn a :class:`StepConfig` into a plain tree in the file layout.

    Parameters
    ----------
    config : StepConfig

    Returns
    -------
    dict
        ``class``, ``name``, ``parameters`` and, if there are steps, ``steps``.
    """
    tree: dict[str, Any] = {
        "class": config.class_name,
        "name": config.name,
        "parameters": {k: to_plain(v) for k, v in config.parameters.items()},
    }
    if config.steps:
        tree["steps"] = [config_to_tree(s) for s in config.steps]
    return tree


def write_parameter_file(
    path: str | os.PathLike[str], config: StepConfig, *, meta: Mapping[str, Any] | None = None
) -> str:
    """Write an ASDF parameter file atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (its folder is created if missing).
    config : StepConfig
        What to write.
    meta : mapping, optional
        Entries of the file's ``meta`` block (for example the ones CRDS needs);
        ``date``, ``origin`` and ``description`` are filled in when missing.

    Returns
    -------
    str
        The path written.
    """
    import asdf

    text = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(text))
    os.makedirs(folder, exist_ok=True)
    tree = config_to_tree(config)
    block = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "origin": "steppe",
        "description": f"Parameters of {config.name or config.class_name}",
    }
    block.update(meta or {})
    tree["meta"] = to_plain(block)
    with atomic_write(text) as tmp:
        asdf.AsdfFile(tree).write_to(tmp)
    return text


def to_plain(value: Any) -> Any:
    """Convert a value into plain YAML-friendly Python (for files and printing).

    Tuples become lists, numpy scalars and arrays become numbers and lists, paths
    become strings, a data model becomes its file name, a class or function becomes
    its dotted path.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return to_plain(value.tolist())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "meta") and hasattr(value, "save"):
        return getattr(value.meta, "filename", None)
    if hasattr(value, "__qualname__") and hasattr(value, "__module__"):
        return f"{value.__module__}.{value.__qualname__}"
    return str(value)


def layer_from_values(values: Mapping[str, Any] | None, *, source: str) -> dict[str, Any]:
    """Turn parameters in either supported shape into a configuration layer.

    Parameters
    ----------
    values : mapping or None
        Either flat parameters (with an optional ``"steps"`` mapping of step names
        to parameters, or list of step entries), or a tree in the parameter-file
        layout (``class``/``name``/``parameters``/``steps``).
    source : str
        Where the values came from, for messages.

    Returns
    -------
    dict
        A layer for :func:`pipeline_core.config.params.merge_layers`.

    Raises
    ------
    ParameterError
        If a tree does not follow the layout.
    """
    if not values:
        return {}
    if "parameters" in values or "class" in values:
        tree = dict(values)
        if not _is_legacy_tree(tree):
            tree.setdefault("class", "<unknown>")
        return config_from_tree(tree, source=source).as_layer()
    layer = dict(values)
    steps = layer.get("steps")
    if isinstance(steps, list):
        nested = config_from_tree({"class": "<unknown>", "steps": steps}, source=source)
        layer["steps"] = nested.as_layer().get("steps", {})
    return layer
