"""Steps and parameters a class declares it does not provide.

A steppe pipeline or step often stands in for another one (a JWST pipeline, named
by a legacy class path), whose parameter files mention steps and parameters that
steppe does not implement. A class lists those, each with the reason, so that
such files load and run, while anything that would *ask for* the missing work
is refused:

* :attr:`Pipeline.omitted_steps <pipeline_core.steps.pipeline.Pipeline.omitted_steps>`:
  step name -> reason, or :class:`OmittedStep` (reason and the instruments the
  step applies to). An entry for such a step is accepted when it skips the step
  (``skip: true``) or does not say (steppe never runs it); one that enables it
  (``skip: false``) is a :class:`~pipeline_core.errors.ParameterError` when the
  step applies to the exposure, and is logged as not applicable otherwise (a
  MIRI-only step on a near-infrared exposure is not run by JWST either).
* :attr:`Step.omitted_parameters <pipeline_core.steps.step.Step.omitted_parameters>`:
  parameter name -> reason (any value is accepted: the parameter has no effect
  on what steppe does), or :class:`OmittedParameter` with the values that match
  steppe's behaviour; any other value is a ``ParameterError``.

The rule is the same for every configuration layer (parameter file, CRDS
parameter reference file, ``steps=`` and keyword arguments, the command line):
what decides is whether the value asks for work steppe cannot do, not where it
came from. Names that are declared nowhere stay errors.

Why an error rather than a warning for enabled steps: a product made without a
correction the configuration asked for looks complete but is not what the user
requested; a warning in a long log is easy to miss, and the fix (set
``skip: true``) is one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline_core.errors import StepError
from pipeline_core.truth import parse_truth

__all__ = [
    "OmittedStep",
    "OmittedParameter",
    "omitted_steps_of",
    "omitted_parameters_of",
    "check_omitted_parameters",
    "check_omitted_step",
]


@dataclass(frozen=True)
class OmittedStep:
    """A step of the stood-in-for pipeline that this pipeline does not provide.

    Parameters
    ----------
    reason : str
        Why it is not provided (shown in messages and recorded in products).
    instruments : tuple of str, optional
        The instruments (``meta.instrument.name``, upper case) whose exposures the
        step applies to; empty means every instrument.

    Examples
    --------
    >>> OmittedStep("MIRI only", instruments=("MIRI",)).applies_to("NIRCAM")
    False
    """

    reason: str
    instruments: tuple[str, ...] = ()

    def applies_to(self, instrument: str | None) -> bool:
        """Tell whether the step would act on an exposure of ``instrument``.

        Parameters
        ----------
        instrument : str or None
            The exposure's instrument; None (unknown) counts as applicable.

        Returns
        -------
        bool
        """
        if not self.instruments or not instrument:
            return True
        return str(instrument).upper() in {i.upper() for i in self.instruments}


@dataclass(frozen=True)
class OmittedParameter:
    """A parameter of the stood-in-for step that this step does not implement.

    Parameters
    ----------
    reason : str
        Why it is not implemented.
    accepted : tuple, optional
        The values that ask for what steppe does anyway (typically the JWST
        default); ``None`` (the default) accepts any value, for parameters that
        have no effect on steppe's result.

    Examples
    --------
    >>> OmittedParameter("only 'median' is provided", accepted=("median",)).accepts("MEDIAN")
    True
    """

    reason: str
    accepted: tuple[Any, ...] | None = None

    def accepts(self, value: Any) -> bool:
        """Tell whether ``value`` asks for nothing steppe does not do.

        Parameters
        ----------
        value : object
            The configured value (from a file, the command line or code).

        Returns
        -------
        bool
            True when every value is accepted, or ``value`` matches an accepted
            one (numbers by value, strings without regard to case, ``"None"`` as
            None).
        """
        if self.accepted is None:
            return True
        return any(_same(value, option) for option in self.accepted)

    def describe(self) -> str:
        """Say in words which values are accepted.

        Returns
        -------
        str
        """
        if self.accepted is None:
            return "any value"
        return "one of " + ", ".join(repr(v) for v in self.accepted)


def _same(value: Any, option: Any) -> bool:
    if value is None or (isinstance(value, str) and value.strip() == "None"):
        return option is None
    if option is None:
        return False
    if isinstance(option, bool):
        return parse_truth(str(value)) is option
    if isinstance(option, (int, float)):
        try:
            return float(value) == float(option)
        except (TypeError, ValueError):
            return False
    return str(value).strip().lower() == str(option).strip().lower()


def omitted_steps_of(cls: type) -> dict[str, OmittedStep]:
    """Return a pipeline class's omitted steps, each as an :class:`OmittedStep`.

    Parameters
    ----------
    cls : type
        A pipeline class; its ``omitted_steps`` maps names to a reason (str) or an
        :class:`OmittedStep`.

    Returns
    -------
    dict of str to OmittedStep

    Raises
    ------
    StepError
        If an entry is neither, or names one of the class's own steps.
    """
    declared = getattr(cls, "omitted_steps", None) or {}
    provided = set(getattr(cls, "step_defs", {}) or {})
    result: dict[str, OmittedStep] = {}
    for name, entry in declared.items():
        if name in provided:
            raise StepError(
                f"{cls.__name__}.omitted_steps lists {name!r}, which is one of its steps "
                "(step_defs); remove it from omitted_steps"
            )
        result[name] = _entry(cls, "omitted_steps", name, entry, OmittedStep)
    return result


def omitted_parameters_of(cls: type, specs: Mapping[str, Any]) -> dict[str, OmittedParameter]:
    """Return a step class's omitted parameters, each as an :class:`OmittedParameter`.

    Parameters
    ----------
    cls : type
        A step class; its ``omitted_parameters`` maps names to a reason (str) or
        an :class:`OmittedParameter`.
    specs : mapping
        The class's declared parameters (an omitted one may not be declared).

    Returns
    -------
    dict of str to OmittedParameter

    Raises
    ------
    StepError
        If an entry is neither, or names a declared parameter.
    """
    declared = getattr(cls, "omitted_parameters", None) or {}
    result: dict[str, OmittedParameter] = {}
    for name, entry in declared.items():
        if name in specs:
            raise StepError(
                f"{cls.__name__}.omitted_parameters lists {name!r}, which is a parameter of the "
                "step (spec); remove it from omitted_parameters"
            )
        result[name] = _entry(cls, "omitted_parameters", name, entry, OmittedParameter)
    return result


def _entry(cls: type, attribute: str, name: str, entry: Any, kind: type) -> Any:
    if isinstance(entry, kind):
        return entry
    if isinstance(entry, str) and entry.strip():
        return kind(entry)
    raise StepError(
        f"{cls.__name__}.{attribute}[{name!r}] = {entry!r} is not accepted; give the reason "
        f"(a non-empty string) or a {kind.__name__}"
    )


def check_omitted_parameters(
    step: str, declared: Mapping[str, OmittedParameter], values: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Take the omitted parameters out of ``values``, checking each value.

    Parameters
    ----------
    step : str
        The step's name, for messages.
    declared : mapping of str to OmittedParameter
        The step class's omitted parameters.
    values : dict
        The configured values; declared names are removed from it (in place).

    Returns
    -------
    ignored : dict
        The omitted parameters given, with their values (accepted ones only).
    problems : list of str
        One message per value that asks for something steppe does not do.
    """
    ignored: dict[str, Any] = {}
    problems: list[str] = []
    for name in [n for n in values if n in declared]:
        value = values.pop(name)
        entry = declared[name]
        if entry.accepts(value):
            ignored[name] = value
        else:
            problems.append(
                f"step '{step}': parameter '{name}' = {value!r} asks for something steppe does not "
                f"implement ({entry.reason}); accepted: {entry.describe()}. Remove it or set it to "
                "an accepted value"
            )
    return ignored, problems


def check_omitted_step(
    pipeline: str, name: str, entry: OmittedStep, layer: Any
) -> tuple[bool | None, list[str]]:
    """Check the configuration given for an omitted step.

    Parameters
    ----------
    pipeline : str
        The pipeline's name, for messages.
    name : str
        The omitted step's name.
    entry : OmittedStep
        Its declaration.
    layer : object
        The values configured for it (a mapping of parameter names to values).

    Returns
    -------
    skip : bool or None
        The configured ``skip`` (None when not given).
    problems : list of str
        Layout problems, and the refusal of a step that is enabled and applies
        to every instrument (instrument-specific ones are decided at run time).
    """
    from pipeline_core.config.params import parse_spec

    if layer is None:
        return None, []
    if not isinstance(layer, Mapping):
        return None, [
            f"step '{pipeline}': steps['{name}'] = {layer!r} is not accepted; give a mapping "
            "of parameter names to values"
        ]
    if "skip" not in layer or layer["skip"] is None:
        return None, []
    spec = parse_spec("skip = boolean(default=False)")["skip"]
    try:
        skip = spec.convert(layer["skip"], step=name)
    except Exception as exc:  # ParameterError, with the step and value named
        return None, [str(exc)]
    if not skip and not entry.instruments:
        return skip, [enabled_problem(pipeline, name, entry, None)]
    return skip, []


def enabled_problem(pipeline: str, name: str, entry: OmittedStep, instrument: str | None) -> str:
    """Format the refusal of an omitted step that the configuration enables.

    Parameters
    ----------
    pipeline : str
        The pipeline's name.
    name : str
        The step's name.
    entry : OmittedStep
        Its declaration.
    instrument : str or None
        The exposure's instrument, when known.

    Returns
    -------
    str
        One message naming the step, why it is missing and the fix.
    """
    exposure = f" on this {instrument} exposure" if instrument else ""
    return (
        f"step '{pipeline}': step '{name}' is enabled (skip = False){exposure}, but this "
        f"pipeline does not provide it ({entry.reason}). Set steps.{name}.skip = true (or remove "
        f"the '{name}' entry) to run without it, or run this configuration with the software "
        "that provides the step"
    )
