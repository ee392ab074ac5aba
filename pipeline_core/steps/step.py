"""The :class:`Step`: parameters, running, reference files, skipping and saving.

A step subclasses :class:`Step`, declares its parameters in :attr:`Step.spec` and
implements :meth:`Step.process`::

    class ScaleStep(Step):
        spec = "factor = float(default=2.0, min=0)  # multiply the data by this"
        class_alias = "scale"

        def process(self, model):
            model.data *= self.factor
            return model

``ScaleStep.call(input, config_file=None, logcfg=None, **params)`` builds a fresh,
fully configured instance and runs it; ``ScaleStep(factor=3).run(input)`` runs an
instance as configured. The configuration layers, lowest first, are the coded
defaults, the CRDS parameter reference file (``call`` only), the ``config_file`` and
the keyword arguments.

Product naming and saving live in :mod:`pipeline_core.steps.saving` (the
:class:`~pipeline_core.steps.saving.ProductSaving` base class), pre- and post-hooks in
``pipeline_core.steps.prepost``, the provenance written
into products in :mod:`pipeline_core.steps.provenance`.

A step whose coded default is ``skip = True`` (a step that is off by default inside
its pipeline) runs when called on its own, as in stpipe, unless ``skip`` was given
explicitly (keyword, parameter file or attribute).

Why one module of this size: it is the Step class, whose methods share its
configuration state; parameters (:mod:`~pipeline_core.config`), names
(:mod:`~pipeline_core.steps.resolve`), saving (:mod:`~pipeline_core.steps.saving`),
provenance and hooks already live in their own modules.
"""

from __future__ import annotations

import copy
import logging
import os
import sys
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, ClassVar

from pipeline_core import logconfig
from pipeline_core.errors import StepError
from pipeline_core.plugins.descriptor import StepBase
from pipeline_core.config.params import (
    COMMON_SPEC,
    ParamSpec,
    common_specs,
    merge_layers,
    override_spec,
    parallel_specs,
    parse_spec,
    raise_problems,
    validate,
)
from pipeline_core.config.parfile import (
    StepConfig,
    config_from_tree,
    config_to_tree,
    layer_from_values,
    read_parameter_file,
    write_parameter_file,
)
from pipeline_core.steps.resolve import target_class
from pipeline_core.steps.saving import ProductSaving, is_model, model_filename
from pipeline_core.steps import progress
from pipeline_core.steps.prepost import run_step_hooks

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.datamodels import DataModel

__all__ = ["Step", "is_model"]

_SPEC_CACHE: weakref.WeakKeyDictionary[type, tuple[tuple[Any, ...], dict[str, ParamSpec]]] = (
    weakref.WeakKeyDictionary()
)
_COMMON: dict[str, dict[str, ParamSpec]] = {}
_RESERVED = frozenset({"name", "parent", "steps", "class", "parameters", "step_defs"})


def _common_specs(text: str) -> dict[str, ParamSpec]:
    if text not in _COMMON:
        # COMMON_SPEC comes with its checks (output_file has no folder part)
        _COMMON[text] = common_specs() if text == COMMON_SPEC else parse_spec(text, owner="steppe common parameters")
    return _COMMON[text]


def _parallel_specs() -> dict[str, ParamSpec]:
    if _PARALLEL_KEY not in _COMMON:
        _COMMON[_PARALLEL_KEY] = parallel_specs()
    return _COMMON[_PARALLEL_KEY]


_PARALLEL_KEY = "<parallel>"


def _open_input(data: Any, input_dir: str | None, threads: int = 1) -> tuple[Any, bool, str | None]:
    """Open a path input; return (data, owned, input file name).

    An association file (``.json``) is passed on as its path: the step that
    accepts associations reads it. Large images are read on `threads` threads
    (:meth:`Step.input_threads`).
    """
    if not isinstance(data, (str, os.PathLike)):
        return data, False, model_filename(data)
    path = os.fspath(data)
    if input_dir and not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.join(input_dir, path)
    if not os.path.exists(path):
        where = f" (also looked in input_dir={input_dir!r})" if input_dir else ""
        raise StepError(
            f"input file {os.fspath(data)!r} does not exist{where}; give an existing file "
            "or a data model"
        )
    if path.lower().endswith(".json"):
        return path, True, os.path.basename(path)
    from pipeline_core.datamodels import open_model

    return open_model(path, threads=threads), True, os.path.basename(path)


def _describe(data: Any) -> str:
    name = model_filename(data)
    if name:
        return f"{type(data).__name__} {name!r}"
    return type(data).__name__


@dataclass(frozen=True)
class _PreparedCall:
    """A configured step and its opened input, ready to run (see ``Step._prepare_call``)."""

    step: Step
    data: Any
    owned: bool
    input_name: str | None

    def run(self) -> Any:
        return self.step._run(self.data, owned=self.owned, input_name=self.input_name)


class Step(ProductSaving, StepBase):
    """Base class of every calibration step.

    Parameters
    ----------
    name : str, optional
        The step's name: its logger is ``steppe.<name>`` and, inside a pipeline, the
        name by which the pipeline knows it. Default: :attr:`class_alias`, else the
        class name.
    parent : Step, optional
        The pipeline this step belongs to.
    **params
        Parameter values; they are validated and become attributes
        (``step.rejection_threshold``).

    Raises
    ------
    ParameterError
        If a parameter is unknown, of the wrong type or out of range; every problem
        is listed.

    Attributes
    ----------
    spec : str
        The step's own parameters, in stpipe spec syntax.
    class_alias : str or None
        The short name (e.g. ``"jump"``); also the default product suffix and
        ``meta.cal_step`` key.
    legacy_class_paths : tuple of str
        Other class paths naming this step in parameter files.
    reference_file_types : tuple of str
        The reference file types the step uses; each adds ``override_<reftype>``.
    parallel : bool
        True when the step splits its work across cores; adds ``maximum_cores``.
    parallel_threads : bool
        True when the step's kernels release the interpreter lock and run on
        threads (``map_row_slices(..., threads=True)``): its input is then not
        copied into shared memory for worker processes.
    default_suffix : str or None
        The product suffix; default: :attr:`class_alias`.
    cal_step_key : str or None
        The ``meta.cal_step`` entry set to ``"COMPLETE"``/``"SKIPPED"``; default:
        :attr:`class_alias`.
    """

    spec: ClassVar[str] = ""
    class_alias: ClassVar[str | None] = None
    legacy_class_paths: ClassVar[tuple[str, ...]] = ()
    reference_file_types: ClassVar[tuple[str, ...]] = ()
    parallel: ClassVar[bool] = False
    parallel_threads: ClassVar[bool] = False
    default_suffix: ClassVar[str | None] = None
    cal_step_key: ClassVar[str | None] = None

    name: str
    parent: Step | None

    # ------------------------------------------------------------------ construction
    def __init__(self, name: str | None = None, parent: Step | None = None, **params: Any) -> None:
        problems: list[str] = []
        self._setup(name, parent, params, problems)
        raise_problems(problems)

    @classmethod
    def _build(
        cls, name: str | None, parent: Step | None, layer: Mapping[str, Any], problems: list[str],
        **extra: Any,
    ) -> Step:
        """Create an instance, adding configuration problems to ``problems``."""
        step = cls.__new__(cls)
        step._setup(name, parent, dict(layer), problems, **extra)
        return step

    def _setup(
        self, name: str | None, parent: Step | None, params: dict[str, Any], problems: list[str]
    ) -> None:
        specs = type(self).param_specs()
        object.__setattr__(self, "_specs", specs)
        object.__setattr__(self, "name", name or type(self).default_name())
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "_input_name", None)
        if "steps" in params:
            value = params.pop("steps")
            if value:
                problems.append(
                    f"step '{self.name}' ({type(self).__name__}) is not a pipeline; "
                    f"remove `steps` (given {value!r})"
                )
        object.__setattr__(self, "_skip_given", "skip" in params)
        converted, found = validate(self.name, specs, params)
        problems.extend(found)
        for key, spec in specs.items():
            value = converted[key] if key in converted else copy.copy(spec.default)
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        specs = self.__dict__.get("_specs")
        if specs is not None and key in specs:
            value = specs[key].convert(value, step=self.name)
            if key == "skip":
                object.__setattr__(self, "_skip_given", True)
        object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @classmethod
    def default_name(cls) -> str:
        """Return the name an instance gets when none is given.

        Returns
        -------
        str
            :attr:`class_alias`, else the class name.
        """
        return cls.class_alias or cls.__name__

    @classmethod
    def param_specs(cls) -> dict[str, ParamSpec]:
        """Return the specs of every parameter of this class, common ones included.

        Returns
        -------
        dict of str to ParamSpec
            The common parameters, ``override_<reftype>`` for each reference type,
            ``maximum_cores`` for parallel steps, then the class's own :attr:`spec`
            (which may redefine a common one).

        Raises
        ------
        StepError
            If the class's spec cannot be parsed.
        """
        signature = (cls.spec, tuple(cls.reference_file_types), bool(cls.parallel))
        cached = _SPEC_CACHE.get(cls)
        if cached is not None and cached[0] == signature:
            return cached[1]
        specs = dict(_common_specs(COMMON_SPEC))
        for reftype in cls.reference_file_types:
            specs.update(_common_specs(override_spec(reftype)))
        if cls.parallel:
            specs.update(_parallel_specs())
        own = parse_spec(cls.spec, owner=f"{cls.__module__}.{cls.__qualname__}.spec")
        reserved = sorted(set(own) & _RESERVED)
        if reserved:
            raise StepError(
                f"{cls.class_path()}.spec declares {reserved}, which are reserved "
                f"({', '.join(sorted(_RESERVED))}); rename these parameters"
            )
        specs.update(own)
        _SPEC_CACHE[cls] = (signature, specs)
        return specs

    @classmethod
    def class_path(cls) -> str:
        """Return the dotted path that names this class in parameter files.

        Returns
        -------
        str
            ``module.ClassName``.
        """
        return f"{cls.__module__}.{cls.__qualname__}"

    # ------------------------------------------------------------------ configuration
    @classmethod
    def call(
        cls,
        input: Any = None,
        config_file: str | os.PathLike[str] | None = None,
        logcfg: str | os.PathLike[str] | None = None,
        **params: Any,
    ) -> Any:
        """Build a fully configured step and run it on ``input``.

        Parameters
        ----------
        input : str, os.PathLike, DataModel or object
            A file (opened with :func:`pipeline_core.datamodels.open_model`) or a
            data model (copied, so the caller's model is not modified); other
            objects are passed to :meth:`process` as they are.
        config_file : str or os.PathLike, optional
            An ASDF parameter file. Called on a concrete class, its parameters
            configure that class (the file must name it); called on
            :class:`Step` or :class:`~pipeline_core.steps.pipeline.Pipeline`, the file's
            class is built.
        logcfg : str or os.PathLike, optional
            A ``logcfg`` file that directs this run's log
            (see :mod:`pipeline_core.logconfig`).
        **params
            Parameter values; for a pipeline, ``steps={"name": {...}}`` configures
            its steps.

        Returns
        -------
        object
            The result, in memory. Nothing is written unless ``save_results`` is
            set or ``output_file`` is given (on the step, or on a pipeline's step).

        Raises
        ------
        ParameterError
            If any parameter (from any layer) is invalid; every problem is listed.

        Notes
        -----
        Layers, lowest first: coded defaults, the CRDS parameter reference file
        (looked up for model inputs; skipped when ``STPIPE_DISABLE_CRDS_STEPPARS`` is
        true), ``config_file``, keyword arguments.

        When logging is not configured, the run's INFO messages go to stderr, as
        stpipe prints them (:func:`pipeline_core.logconfig.console_logging`).
        """
        with logconfig.configured(logcfg), logconfig.console_logging():
            return cls._prepare_call(input, config_file, params).run()

    @classmethod
    def _prepare_call(
        cls,
        input: Any,
        config_file: str | os.PathLike[str] | None,
        params: Mapping[str, Any],
        *,
        crds_steppars: bool = True,
    ) -> _PreparedCall:
        """Configure the step ``call`` runs and open its input, without running it.

        ``crds_steppars=False`` leaves out the CRDS parameter reference file
        whatever ``STPIPE_DISABLE_CRDS_STEPPARS`` says (the command line's
        ``--disable-crds-steppars``).
        """
        file_config = read_parameter_file(config_file) if config_file is not None else None
        target, step_defs = target_class(cls, file_config, step_base=Step)
        file_layer = file_config.as_layer() if file_config is not None else {}
        name = file_config.name if file_config is not None else None
        context = f"config_file={os.fspath(config_file)!r}" if config_file is not None else ""
        # check the given values before opening the input, so that mistakes fail fast
        given = merge_layers(file_layer, params)
        first = target._from_layer(given, name=name, step_defs=step_defs, context=context)
        data, owned, input_name = _open_input(input, first.input_dir, first.input_threads())
        crds_layer = target._crds_layer(data, step_defs) if crds_steppars else {}
        if crds_layer:
            layer = merge_layers(crds_layer, given)
            step = target._from_layer(
                layer, name=name, step_defs=step_defs,
                context=f"values from the CRDS parameter reference file of {target.__name__}; "
                "set STPIPE_DISABLE_CRDS_STEPPARS=1 to run without it",
            )
        else:
            step = first
        if config_file is not None:
            object.__setattr__(step, "_config_file", os.fspath(config_file))
        return _PreparedCall(step, data, owned, input_name)

    @classmethod
    def from_config_file(cls, path: str | os.PathLike[str], **params: Any) -> Step:
        """Build the step a parameter file describes.

        Parameters
        ----------
        path : str or os.PathLike
            An ASDF parameter file.
        **params
            Values that override the file's.

        Returns
        -------
        Step
            An instance of the file's class (which must be this class, a subclass,
            or, when this is :class:`Step` or the generic
            :class:`~pipeline_core.steps.pipeline.Pipeline`, any registered step). A
            generic pipeline file's ``steps`` list defines the pipeline.

        Raises
        ------
        ParameterError
            If the file is unreadable, names another class, or holds invalid values.
        PluginError
            If a class it names is not registered.
        """
        file_config = read_parameter_file(path)
        target, step_defs = target_class(cls, file_config, step_base=Step)
        layer = merge_layers(file_config.as_layer(), params)
        return target._from_layer(
            layer, name=file_config.name, step_defs=step_defs, context=f"parameter file {os.fspath(path)!r}"
        )

    @classmethod
    def from_config(cls, tree: Mapping[str, Any], **params: Any) -> Step:
        """Build the step a parameter tree (the parameter-file layout, in memory) describes.

        Parameters
        ----------
        tree : mapping
            ``class``, ``name``, ``parameters`` and optionally ``steps``.
        **params
            Values that override the tree's.

        Returns
        -------
        Step

        Raises
        ------
        ParameterError
            If the tree does not follow the layout or holds invalid values.
        """
        file_config = config_from_tree(tree)
        target, step_defs = target_class(cls, file_config, step_base=Step)
        layer = merge_layers(file_config.as_layer(), params)
        return target._from_layer(layer, name=file_config.name, step_defs=step_defs, context="")

    @classmethod
    def _from_layer(
        cls, layer: Mapping[str, Any], *, name: str | None, step_defs: Mapping[str, Any] | None,
        context: str,
    ) -> Step:
        problems: list[str] = []
        extra = {"step_defs": step_defs} if step_defs is not None else {}
        step = cls._build(name, None, layer, problems, **extra)
        raise_problems(problems, context=context)
        return step

    @classmethod
    def _crds_layer(cls, data: Any, step_defs: Mapping[str, Any] | None) -> dict[str, Any]:
        """The CRDS parameter reference file's values for this class and ``data``."""
        if not is_model(data):
            return {}
        from pipeline_core.references.lookup import get_step_parameters

        return layer_from_values(get_step_parameters(cls, data), source=f"CRDS parameters of {cls.__name__}")

    # ------------------------------------------------------------------ parameters
    def get_pars(self) -> dict[str, Any]:
        """Return the step's current parameter values.

        Returns
        -------
        dict
            Every parameter by name (copies of lists); a pipeline adds ``"steps"``,
            mapping each step's name to its parameters.
        """
        return {key: copy.copy(getattr(self, key)) for key in self._specs}

    def _config(self) -> StepConfig:
        return StepConfig(class_name=type(self).class_path(), name=self.name, parameters=self.get_pars())

    def export_config(self, path: str | os.PathLike[str]) -> str:
        """Write the complete configuration to an ASDF parameter file.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (atomically).

        Returns
        -------
        str
            The path written. Loading it back (:meth:`from_config_file`) gives the
            same configuration.
        """
        return write_parameter_file(path, self._config())

    def print_config(self, file: IO[str] | None = None) -> str:
        """Print the configuration in the parameter-file layout (YAML).

        Parameters
        ----------
        file : file-like, optional
            Where to print; default ``sys.stdout``.

        Returns
        -------
        str
            The text printed.
        """
        import yaml

        text = yaml.safe_dump(config_to_tree(self._config()), sort_keys=False)
        print(text, end="", file=file if file is not None else sys.stdout)
        return text

    # ------------------------------------------------------------------ running
    @property
    def log(self) -> logging.Logger:
        """logging.Logger: The step's logger, ``steppe.<name>``."""
        return logconfig.step_logger(self.name)

    @property
    def max_workers(self) -> int:
        """int: Workers (processes, or threads) to use, resolved from ``maximum_cores`` (parallel steps)."""
        if not self.parallel:
            return 1
        from pipeline_core.parallel.rows import resolve_max_workers

        return resolve_max_workers(self.maximum_cores, step_name=self.name)

    def input_threads(self) -> int:
        """Threads that read the large images of an input file: as many as the step's kernels may use.

        A step whose kernels run on threads (:attr:`parallel_threads`) reads on
        :attr:`max_workers` threads; any other step on one (worker processes
        read shared memory). A pipeline takes the most of its running steps.
        Reading on several threads gives the same values, sooner: most of the
        cost of reading a large ramp from the page cache is the first touch of
        its new memory, which several cores share.

        Returns
        -------
        int
            1 when the step is skipped or its ``maximum_cores`` is invalid (the
            step reports that when it runs).
        """
        from pipeline_core.errors import ParameterError

        if self.skip or not (self.parallel and self.parallel_threads):
            return 1
        try:
            return self.max_workers
        except ParameterError:
            return 1

    def _copy_input(self, data: Any) -> Any:
        """Copy a caller's model; into shared memory when this step will use worker processes."""
        if self.parallel and not self.parallel_threads:
            from pipeline_core.parallel.rows import shared_allocator, uses_workers

            workers = self.max_workers
            if uses_workers(workers):
                return data.copy(allocator=shared_allocator, threads=workers)
        return data.copy()

    def process(self, input: Any) -> Any:
        """Do the step's work; implemented by each step.

        Parameters
        ----------
        input : object
            The (opened) input: a data model, or what the caller passed.

        Returns
        -------
        object
            The result. A step whose work cannot be done (e.g. its reference file is
            N/A) sets ``meta.cal_step.<key> = "SKIPPED"`` and returns the input.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement process(self, input); every step must"
        )

    def run(self, input: Any = None) -> Any:
        """Run the step as configured (coded defaults plus attributes).

        Parameters
        ----------
        input : str, os.PathLike, DataModel or object
            A file is opened; a data model given to a standalone step is copied so
            the caller's model is not modified (inside a pipeline it is passed on).

        Returns
        -------
        object
            The result.
        """
        return self._run(input, owned=False)

    def __call__(self, input: Any = None) -> Any:
        """Run the step: the same as :meth:`run`.

        Parameters
        ----------
        input : str, os.PathLike, DataModel or object
            See :meth:`run`.

        Returns
        -------
        object
            The result.
        """
        return self.run(input)

    def _run(self, input: Any, *, owned: bool, input_name: str | None = None) -> Any:
        from pipeline_core.plugins.manager import registry

        started = time.perf_counter()
        if isinstance(input, (str, os.PathLike)):
            data, owned, input_name = _open_input(input, self.input_dir, self.input_threads())
        else:
            data = input
            input_name = input_name or model_filename(data)
        object.__setattr__(self, "_input_name", input_name)
        if self.parent is None and not self.skip:
            # overrides, hooks, product folders and paths: refused before any work
            from pipeline_core.steps.preflight import check_run

            check_run(self, data, config_file=self.__dict__.get("_config_file"))
        if not owned and self.parent is None and is_model(data):
            data = self._copy_input(data)
        log = self.log
        log.info("Step %s running on %s", self.name, _describe(data))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Step %s parameters: %s", self.name, self.get_pars())
        if self.skip and self.parent is None and not self._skip_given:
            # as stpipe: a step off by default inside its pipeline runs when called alone
            log.info("Step %s run standalone, so skip set to False", self.name)
            object.__setattr__(self, "skip", False)
        hooks = registry().hook
        hooks.step_started(step=self, input=data)
        ticket = progress.enter_step(self)
        try:
            if self.skip:
                log.info("Step %s skipped.", self.name)
                self._mark(data, "SKIPPED")
                result = data
            else:
                data = run_step_hooks(self, self.pre_hooks, data, "pre")
                before = self._cal_status(data)
                result = self._process(data)
                self._mark_complete(result, before)
                result = run_step_hooks(self, self.post_hooks, result, "post")
                if self.saves_results():
                    self._save_result(result)
        except BaseException:
            progress.leave_step(ticket, self)
            log.error("Step %s failed after %.3f s", self.name, time.perf_counter() - started)
            raise
        progress.leave_step(ticket, self)
        if self.parent is None:
            self._record_provenance(result)
        elapsed = time.perf_counter() - started
        hooks.step_finished(step=self, result=result, elapsed=elapsed)
        log.info("Step %s done in %.3f s", self.name, elapsed)
        return result

    def _process(self, data: Any) -> Any:
        """Call :meth:`process`; a parallel step's worker pool names the step in its errors."""
        if not self.parallel:
            return self.process(data)
        from pipeline_core.parallel.cores import running_step

        with running_step(self.name):
            return self.process(data)

    def _record_provenance(self, result: Any) -> None:
        from pipeline_core.steps.provenance import record_provenance

        for item in result if isinstance(result, (tuple, list)) else (result,):
            if is_model(item):
                record_provenance(self, item)

    # ------------------------------------------------------------------ cal_step
    def _cal_step_name(self) -> str | None:
        return self.cal_step_key or self.class_alias

    def _cal_status(self, data: Any) -> Any:
        key = self._cal_step_name()
        if key and is_model(data):
            return getattr(data.meta.cal_step, key, None)
        return None

    def _mark(self, data: Any, status: str) -> None:
        key = self._cal_step_name()
        if not key:
            return
        for item in data if isinstance(data, (tuple, list)) else (data,):
            if is_model(item):
                setattr(item.meta.cal_step, key, status)

    def _mark_complete(self, result: Any, before: Any) -> None:
        key = self._cal_step_name()
        if not key:
            return
        for item in result if isinstance(result, (tuple, list)) else (result,):
            if is_model(item):
                after = getattr(item.meta.cal_step, key, None)
                if after is None or (after == before and after != "SKIPPED"):
                    setattr(item.meta.cal_step, key, "COMPLETE")

    # ------------------------------------------------------------------ references
    def get_reference_file(self, model: DataModel, reftype: str) -> str:
        """Return the reference file of type ``reftype`` for ``model``.

        Parameters
        ----------
        model : DataModel
            The data the reference file must match.
        reftype : str
            The reference type, e.g. ``"gain"``.

        Returns
        -------
        str
            A path, or ``"N/A"`` when no reference file applies. ``override_<reftype>``
            wins over plugins and CRDS.

        Raises
        ------
        ReferenceFileError
            If no reference file can be found.
        """
        from pipeline_core.references.lookup import get_reference_file

        return get_reference_file(self, model, reftype)

