"""Generated steppe steps that run stpipe steps and pipelines.

:func:`make_adapter` turns an stpipe class (``jwst.jump.jump_step.JumpStep``) into
a :class:`~pipeline_core.Step` subclass of the same name:

- its parameters are the stpipe class's own spec (its ``spec`` strings, the
  stpipe framework's common parameters being steppe's) plus
  ``override_<reftype>`` for each of its ``reference_file_types``, so steppe's
  layers, validation and messages apply;
- running it converts the input to an stdatamodels model
  (:mod:`~pipeline_core.bridge.convert`), builds the stpipe step with the
  validated values, runs it and converts the result back;
- every reference file the stpipe step asks for is chosen by steppe
  (``override_<reftype>``, the ``get_reference_file`` hook, then CRDS) and handed
  to it as its ``override_<reftype>``;
- ``skip``, ``save_results``, ``output_dir``, pre- and post-hooks are steppe's.

An stpipe pipeline becomes a :class:`~pipeline_core.steps.pipeline.Pipeline`
whose steps are the adapters of its steps, so ``steps={"flat_field": {...}}`` is
checked against each step's spec; the stpipe pipeline then runs with those
values.
"""

from __future__ import annotations

import contextlib
import os
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from pipeline_core.bridge.convert import from_stpipe_model, lookup_view, to_stpipe_model
from pipeline_core.config.params import COMMON_SPEC, parse_spec
from pipeline_core.datamodels import DataModel
from pipeline_core.steps.pipeline import Pipeline
from pipeline_core.steps.step import Step

__all__ = ["StpipeStep", "StpipePipeline", "make_adapter", "own_spec"]

#: The stpipe framework's own classes: their spec is steppe's common parameters.
_FRAMEWORK_MODULES = ("stpipe.",)
#: steppe's common parameters handed on to the stpipe step (saving is steppe's).
_PASSED_COMMON = ("output_dir", "input_dir", "output_file", "output_ext", "output_use_model",
                  "output_use_index")


def own_spec(stpipe_cls: type) -> str:
    """Return the spec of an stpipe class without the stpipe framework's parameters.

    Parameters
    ----------
    stpipe_cls : type
        An ``stpipe.Step`` subclass.

    Returns
    -------
    str
        The ``spec`` strings of the class and its bases (base first, a later
        definition of a parameter replacing an earlier one), leaving out those of
        the stpipe framework itself, whose parameters steppe's steps all have.
    """
    lines: dict[str, str] = {}
    for klass in reversed(stpipe_cls.__mro__):
        text = klass.__dict__.get("spec")
        if not isinstance(text, str) or klass.__module__.startswith(_FRAMEWORK_MODULES):
            continue
        for line in textwrap.dedent(text).splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or "=" not in stripped:
                continue
            lines[stripped.partition("=")[0].strip()] = _steppe_line(stripped)
    return "\n".join(lines.values())


#: stpipe's own configobj checks, as the steppe check that accepts the same values.
_STPIPE_CHECKS = {"input_file": "string"}


def _steppe_line(line: str) -> str:
    """Write one stpipe spec line the way steppe's spec parser reads it.

    stpipe registers checks of its own (``input_file``) and configobj tolerates a
    comma after the check (``float(default=0.0), # help``); both are rewritten.
    """
    name, _, rest = line.partition("=")
    check = rest.strip()
    head, paren, tail = check.partition("(")
    if paren and head.strip() in _STPIPE_CHECKS:
        check = f"{_STPIPE_CHECKS[head.strip()]}({tail}"
    check = re.sub(r"\)\s*,\s*(#|$)", r")  \1", check)
    return f"{name.strip()} = {check}"


def _common_names() -> frozenset[str]:
    return frozenset(parse_spec(COMMON_SPEC, owner="steppe common parameters"))


class _StpipeAdapted:
    """What both adapters share: the stpipe class and the handing over of values."""

    #: The stpipe class this adapter runs.
    stpipe_class: ClassVar[type]
    #: ``"distribution version"`` of the package providing it.
    stpipe_origin: ClassVar[str] = ""
    _own_names: ClassVar[tuple[str, ...]] = ()

    def stpipe_parameters(self) -> dict[str, Any]:
        """Return the values the stpipe step is built with.

        Returns
        -------
        dict
            The class's own parameters and the output/input folders and naming
            parameters; not ``override_*`` (references are chosen as the stpipe
            step asks for them), nor ``skip``/``save_results`` (steppe's).
        """
        names = (*self._own_names, *_PASSED_COMMON)
        values = {name: getattr(self, name) for name in names if hasattr(self, name)}
        return {key: value for key, value in values.items() if not _is_unset(key, value)}

    def _mark_complete(self, result: Any, before: Any) -> None:
        """The stpipe step records its own ``meta.cal_step`` status."""

    def product_suffix(self) -> str:
        """Return the product suffix: ``suffix``, else the one the stpipe run chose (``rate``).

        Returns
        -------
        str
        """
        chosen = self.__dict__.get("_stpipe_suffix")
        return self.suffix or chosen or super().product_suffix()  # type: ignore[misc]

    def _run_stpipe(self, stpipe_step: Any, input: Any) -> Any:
        """Run a built stpipe step or pipeline on ``input`` and hand the result back."""
        with _crds_environment():
            result = stpipe_step.run(to_stpipe_model(input))
        suffix = getattr(stpipe_step, "suffix", None)
        if isinstance(suffix, str) and suffix:
            object.__setattr__(self, "_stpipe_suffix", suffix)
        return from_stpipe_model(result)


def _is_unset(key: str, value: Any) -> bool:
    return value is None and key in _PASSED_COMMON


@contextlib.contextmanager
def _crds_environment() -> Iterator[None]:
    """Let the stpipe step see the CRDS cache steppe uses (its own records name the context).

    With ``CRDS_PATH`` unset, steppe uses the cache a plugin offers (the embedded
    offline set); the stpipe step is run with the same ``CRDS_*`` variables. When
    CRDS is not usable at all, the step runs in the environment as it is.
    """
    from pipeline_core.errors import ReferenceFileError
    from pipeline_core.references.crds_client import current_settings

    try:
        wanted = current_settings().environment()
    except ReferenceFileError:
        wanted = {}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _route_references(stpipe_step: Any, steppe_step: Step) -> None:
    """Make every reference file the stpipe step asks for come from steppe's lookup."""
    from pipeline_core.references.lookup import get_reference_file

    original = stpipe_step.get_reference_file

    def get_reference_file_via_steppe(input_file: Any, reference_file_type: str) -> Any:
        name = f"override_{reference_file_type}"
        if getattr(stpipe_step, name, None) is None:
            chosen = get_reference_file(steppe_step, lookup_view(input_file), reference_file_type)
            if isinstance(chosen, DataModel):
                chosen = to_stpipe_model(chosen)
            setattr(stpipe_step, name, chosen)
        return original(input_file, reference_file_type)

    stpipe_step.get_reference_file = get_reference_file_via_steppe
    stpipe_step.prefetch_references = False


class StpipeStep(_StpipeAdapted, Step):
    """Base of the generated adapters of stpipe steps (see :func:`make_adapter`)."""

    def make_stpipe_step(self) -> Any:
        """Build the stpipe step with this step's values, its references routed to steppe.

        Returns
        -------
        stpipe.Step
        """
        step = self.stpipe_class(name=self.name, **self.stpipe_parameters())
        _route_references(step, self)
        return step

    def process(self, input: Any) -> Any:
        """Run the stpipe step on the input, handed over as an stdatamodels model.

        Parameters
        ----------
        input : DataModel or object

        Returns
        -------
        object
            The result, as a steppe model when steppe has its class.
        """
        return self._run_stpipe(self.make_stpipe_step(), input)


class StpipePipeline(_StpipeAdapted, Pipeline):
    """Base of the generated adapters of stpipe pipelines (see :func:`make_adapter`)."""

    def make_stpipe_step(self) -> Any:
        """Build the stpipe pipeline, its steps configured from this pipeline's steps.

        Returns
        -------
        stpipe.Pipeline
        """
        steps = {}
        for name, sub in self._steps.items():
            pars = sub.stpipe_parameters()
            pars["skip"] = sub.skip
            pars["save_results"] = sub.save_results
            if pars.get("output_dir") is None and self.output_dir is not None:
                pars["output_dir"] = self.output_dir
            steps[name] = pars
        # the stpipe pipeline saves its secondary products itself (``rateints``); its
        # final product is then saved by steppe under the same name
        pipeline = self.stpipe_class(
            name=self.name, steps=steps, save_results=self.saves_results(), **self.stpipe_parameters()
        )
        _route_references(pipeline, self)
        for name, sub in self._steps.items():
            _route_references(getattr(pipeline, name), sub)
        return pipeline

    def process(self, input: Any) -> Any:
        """Run the stpipe pipeline on the input, handed over as an stdatamodels model.

        Parameters
        ----------
        input : DataModel or object

        Returns
        -------
        object
        """
        return self._run_stpipe(self.make_stpipe_step(), input)


def _is_stpipe_pipeline(stpipe_cls: type) -> bool:
    return any(
        f"{base.__module__}.{base.__qualname__}" == "stpipe.pipeline.Pipeline"
        for base in stpipe_cls.__mro__
    )


def make_adapter(
    stpipe_cls: type, *, qualname: str, module: str, alias: str | None, origin: str,
    adapter_of: Callable[[type], type[Step]],
) -> type[Step]:
    """Generate the steppe step class that runs an stpipe class.

    Parameters
    ----------
    stpipe_cls : type
        An ``stpipe.Step`` or ``stpipe.Pipeline`` subclass.
    qualname, module : str
        Where the class is found again (for the registry and for pickle).
    alias : str or None
        Its ``class_alias`` in steppe.
    origin : str
        ``"distribution version"`` of its package, for messages.
    adapter_of : callable
        Returns the adapter of another stpipe class (the steps of a pipeline).

    Returns
    -------
    type
        A :class:`StpipeStep` or :class:`StpipePipeline` subclass named like the
        stpipe class (so its CRDS parameter reference type is the same,
        ``pars-<name>``).
    """
    spec = own_spec(stpipe_cls)
    own = tuple(name for name in parse_spec(spec, owner=qualname) if name not in _common_names())
    declared = stpipe_cls.__dict__.get("reference_file_types", None)
    for klass in stpipe_cls.__mro__:  # a Pipeline's is a property gathering its steps'
        declared = klass.__dict__.get("reference_file_types")
        if declared is not None:
            break
    reftypes = tuple(str(r).lower() for r in declared) if isinstance(declared, (list, tuple)) else ()
    defining = f"{stpipe_cls.__module__}.{stpipe_cls.__qualname__}"
    doc = (
        f"{defining} ({origin}) run as a steppe step.\n\n"
        + textwrap.dedent(stpipe_cls.__doc__ or "").strip()
    )
    namespace: dict[str, Any] = {
        "__module__": module,
        "__qualname__": qualname,
        "__doc__": doc,
        "spec": spec,
        "class_alias": alias if alias and alias.isidentifier() else None,
        "reference_file_types": reftypes,
        "stpipe_class": stpipe_cls,
        "stpipe_origin": origin,
        "_own_names": own,
    }
    base: type = StpipeStep
    if _is_stpipe_pipeline(stpipe_cls):
        base = StpipePipeline
        defs: Mapping[str, type] = getattr(stpipe_cls, "step_defs", {}) or {}
        namespace["step_defs"] = {name: adapter_of(sub) for name, sub in defs.items()}
    return type(stpipe_cls.__name__, (base,), namespace)
