"""Step descriptors: the plain data a plugin's ``register_steps`` hook returns.

Also :class:`StepBase`, the marker base class of every step: the registry checks
a resolved class against it, so this layer never imports
:class:`~pipeline_core.Step` itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pipeline_core.errors import PluginError

__all__ = ["StepBase", "StepDescriptor", "GENERIC_PIPELINE", "CLASS_PATH_RE", "normalize_dist"]

#: Class path of the generic pipeline defined by an ASDF step list.
GENERIC_PIPELINE = "pipeline_core.steps.pipeline.Pipeline"

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
CLASS_PATH_RE = re.compile(rf"^{_IDENT}(\.{_IDENT})+$")
# Classes defined inside functions (scripts, tests) have "<locals>" in their qualname.
_LOCALCLASS_PATH_RE = re.compile(rf"^{_IDENT}(\.({_IDENT}|<locals>))*\.{_IDENT}$")
_ALIAS_RE = re.compile(rf"^{_IDENT}$")
_DESCRIPTOR_KEYS = ("class_path", "alias", "legacy_class_paths", "is_pipeline", "parallel")


class StepBase:
    """Marker base of :class:`pipeline_core.Step`: what the registry accepts as a step.

    Plugins derive from :class:`pipeline_core.Step`, never from this class
    directly; it exists so that name resolution can check "is this a step class"
    without importing the step layer.
    """

    __slots__ = ()


def normalize_dist(name: str) -> str:
    """Return the PEP 503 normalized form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class StepDescriptor:
    """Plain-data description of one registered step or pipeline class.

    Plugins return these (or dicts with the same keys, without ``distribution``
    and ``version``) from the ``register_steps`` hook. Creating one imports
    nothing.

    Parameters
    ----------
    class_path : str
        Dotted path of the class, ``"package.module.ClassName"``.
    alias : str or None
        Short name, e.g. ``"jump"`` or ``"calwebb_detector1"``.
    legacy_class_paths : tuple of str
        Other class paths that name the same step (e.g. the JWST ones), so that
        existing parameter files resolve to this class.
    is_pipeline : bool
        True for a :class:`~pipeline_core.steps.pipeline.Pipeline` subclass.
    parallel : bool
        True when the step can split its work across cores (``maximum_cores``).
    distribution : str
        Name of the distribution that registered the step (filled in by the registry).
    version : str
        Version of that distribution (filled in by the registry).

    Examples
    --------
    >>> StepDescriptor("my_pkg.steps.MedianStep", alias="median").names()
    ('median', 'my_pkg.steps.MedianStep')
    """

    class_path: str
    alias: str | None = None
    legacy_class_paths: tuple[str, ...] = ()
    is_pipeline: bool = False
    parallel: bool = False
    distribution: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        legacy = self.legacy_class_paths
        if isinstance(legacy, str):
            legacy = (legacy,)
        object.__setattr__(self, "legacy_class_paths", tuple(legacy))
        problems = _descriptor_problems(self)
        if problems:
            raise PluginError(
                f"invalid step descriptor for {self.class_path!r}: " + "; ".join(problems)
            )

    @property
    def module_name(self) -> str:
        """str: The module that defines the class (everything before the last dot)."""
        return self.class_path.rpartition(".")[0]

    @property
    def distribution_label(self) -> str:
        """str: ``"name==version"`` of the registering distribution, for messages."""
        if not self.distribution:
            return "<unknown distribution>"
        return f"{self.distribution}=={self.version}" if self.version else self.distribution

    def names(self) -> tuple[str, ...]:
        """Return every name this step resolves by: alias, class path, legacy paths.

        Returns
        -------
        tuple of str
            In resolution order.
        """
        head = (self.alias,) if self.alias else ()
        return (*head, self.class_path, *self.legacy_class_paths)

    @classmethod
    def from_value(
        cls, value: StepDescriptor | Mapping[str, Any], *, distribution: str = "", version: str = ""
    ) -> StepDescriptor:
        """Build a descriptor from a plugin's answer and stamp its distribution.

        Parameters
        ----------
        value : StepDescriptor or mapping
            What a ``register_steps`` implementation returned for one step.
        distribution, version : str
            The distribution that registered it.

        Returns
        -------
        StepDescriptor

        Raises
        ------
        PluginError
            When the value is not a descriptor or a mapping with the known keys.
        """
        if isinstance(value, StepDescriptor):
            return replace(value, distribution=distribution, version=version)
        if not isinstance(value, Mapping):
            raise PluginError(
                f"register_steps returned {value!r} ({type(value).__name__}); each entry must be a "
                f"StepDescriptor or a dict with the keys {', '.join(_DESCRIPTOR_KEYS)}"
            )
        unknown = sorted(set(value) - set(_DESCRIPTOR_KEYS))
        if unknown:
            raise PluginError(
                f"step descriptor {dict(value)!r} has unknown key(s) {', '.join(map(repr, unknown))}; "
                f"the accepted keys are {', '.join(_DESCRIPTOR_KEYS)}"
            )
        if "class_path" not in value:
            raise PluginError(
                f"step descriptor {dict(value)!r} has no 'class_path'; give the dotted path of the "
                "step class, e.g. 'my_package.steps.MyStep'"
            )
        return cls(**dict(value), distribution=distribution, version=version)

    @classmethod
    def from_class(
        cls, step_class: type, *, distribution: str = "", version: str = ""
    ) -> StepDescriptor:
        """Describe an already imported step class from its class attributes.

        Parameters
        ----------
        step_class : type
            A :class:`~pipeline_core.steps.step.Step` subclass; its ``class_alias``,
            ``legacy_class_paths`` and ``parallel`` attributes are read.
        distribution, version : str
            The distribution that provides it.

        Returns
        -------
        StepDescriptor
        """
        return cls(
            class_path=f"{step_class.__module__}.{step_class.__qualname__}",
            alias=getattr(step_class, "class_alias", None),
            legacy_class_paths=tuple(getattr(step_class, "legacy_class_paths", ()) or ()),
            is_pipeline=any(
                f"{base.__module__}.{base.__qualname__}" == GENERIC_PIPELINE
                for base in step_class.__mro__
            ),
            parallel=bool(getattr(step_class, "parallel", False)),
            distribution=distribution,
            version=version,
        )


def _descriptor_problems(desc: StepDescriptor) -> list[str]:
    problems = []
    if not isinstance(desc.class_path, str) or not _LOCALCLASS_PATH_RE.match(desc.class_path):
        problems.append(
            f"class_path {desc.class_path!r} is not a dotted path like 'package.module.ClassName'"
        )
    if desc.alias is not None and (not isinstance(desc.alias, str) or not _ALIAS_RE.match(desc.alias)):
        problems.append(
            f"alias {desc.alias!r} must be a Python identifier (letters, digits, underscores) or None"
        )
    for path in desc.legacy_class_paths:
        if not isinstance(path, str) or not CLASS_PATH_RE.match(path):
            problems.append(f"legacy class path {path!r} is not a dotted path")
    for flag in ("is_pipeline", "parallel"):
        if not isinstance(getattr(desc, flag), bool):
            problems.append(f"{flag} must be True or False, not {getattr(desc, flag)!r}")
    return problems
