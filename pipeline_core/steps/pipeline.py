"""The :class:`Pipeline`: a step made of steps.

A coded pipeline names its steps in :attr:`Pipeline.step_defs` and overrides
:meth:`Pipeline.process` to call them::

    class TwoStepPipeline(Pipeline):
        step_defs = {"add": AddStep, "scale": "scale"}   # a class, or a registered name

        def process(self, model):
            model = self.add.run(model)
            return self.scale.run(model)

The steps are attributes (``pipe.scale.factor = 3``) and are configured with
``TwoStepPipeline.call(x, steps={"scale": {"factor": 3.0}})``. The generic
:class:`Pipeline` itself is defined by an ASDF parameter file's ``steps`` list: its
steps run in list order, each one's output feeding the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pipeline_core.errors import PluginError, StepError
from pipeline_core.config.params import merge_layers, raise_problems, unknown_name_problem
from pipeline_core.config.parfile import StepConfig, layer_from_values
from pipeline_core.steps.step import Step, is_model

__all__ = ["Pipeline", "resolve_step_defs"]


def resolve_step_defs(
    step_defs: Mapping[str, Any], *, owner: str, pipeline_class: type | None = None
) -> dict[str, type[Step]]:
    """Resolve a pipeline's step definitions to classes.

    Parameters
    ----------
    step_defs : mapping of str to (Step subclass or str)
        Step names to classes or to registered aliases / class paths.
    owner : str
        The pipeline, for messages.
    pipeline_class : type, optional
        The coded pipeline whose :attr:`Pipeline.step_defs` these are. Its names
        resolve first among the registrations of the distribution that provides
        the class defining ``step_defs`` (:meth:`Registry.resolve_preferring
        <pipeline_core.plugins.manager.Registry.resolve_preferring>`), so another
        plugin registering the same alias does not change the pipeline.

    Returns
    -------
    dict of str to type
        Step names to Step subclasses, in order.

    Raises
    ------
    PluginError
        If a name is not registered.
    StepError
        If an entry is not a Step subclass.
    """
    from pipeline_core.plugins.manager import registry

    home = _home_distribution(pipeline_class) if pipeline_class is not None else None
    resolved: dict[str, type[Step]] = {}
    for name, target in step_defs.items():
        if isinstance(target, str):
            try:
                target = registry().resolve_preferring(target, home)
            except PluginError as exc:
                raise PluginError(f"pipeline '{owner}', step '{name}': {exc}") from exc
        if not (isinstance(target, type) and issubclass(target, Step)):
            raise StepError(
                f"pipeline '{owner}': step '{name}' is defined as {target!r}; accepted: a Step "
                "subclass or the alias / class path of a registered step"
            )
        resolved[name] = target
    return resolved


def _home_distribution(pipeline_class: type) -> str | None:
    """The distribution registering the class that defines ``pipeline_class.step_defs``."""
    from pipeline_core.plugins.manager import registry

    for klass in pipeline_class.__mro__:
        if "step_defs" in vars(klass):
            descriptor = registry().descriptor_for(klass)
            if descriptor is not None:
                return descriptor.distribution
    return None


class Pipeline(Step):
    """A step that runs other steps.

    Parameters
    ----------
    name : str, optional
        The pipeline's name.
    parent : Step, optional
        The pipeline containing this one.
    step_defs : mapping, optional
        Step names to classes (or registered names), replacing the class's
        :attr:`step_defs`; this is how a generic pipeline gets its steps.
    **params
        The pipeline's parameters; ``steps={"name": {...}}`` configures its steps.

    Raises
    ------
    ParameterError
        If any parameter, of the pipeline or a step, is invalid or a step name in
        ``steps`` is unknown; every problem is listed.

    Attributes
    ----------
    step_defs : dict
        Step names to step classes or registered aliases / class paths.

    Notes
    -----
    ``save_results`` (or ``output_file``) on the pipeline saves its final product
    only; a step's own ``save_results`` (or ``output_file``) saves that step's
    result. A step without ``output_dir`` uses the pipeline's.
    """

    step_defs: ClassVar[Mapping[str, type[Step] | str]] = {}

    def __init__(
        self, name: str | None = None, parent: Step | None = None, *,
        step_defs: Mapping[str, type[Step] | str] | None = None, **params: Any,
    ) -> None:
        problems: list[str] = []
        self._setup(name, parent, params, problems, step_defs=step_defs)
        raise_problems(problems)

    def _setup(  # type: ignore[override]
        self, name: str | None, parent: Step | None, params: dict[str, Any], problems: list[str],
        step_defs: Mapping[str, type[Step] | str] | None = None,
    ) -> None:
        steps_layer = params.pop("steps", None)
        super()._setup(name, parent, params, problems)
        if step_defs is not None:
            defs = resolve_step_defs(step_defs, owner=self.name)
        else:
            defs = resolve_step_defs(type(self).step_defs, owner=self.name, pipeline_class=type(self))
        object.__setattr__(self, "step_defs", dict(defs))
        if steps_layer is None:
            steps_layer = {}
        if not isinstance(steps_layer, Mapping):
            problems.append(
                f"step '{self.name}': steps = {steps_layer!r} is not accepted; give a mapping of "
                f"step names to parameter mappings. Valid steps: {', '.join(defs) or '(none)'}"
            )
            steps_layer = {}
        for key, value in steps_layer.items():
            if key not in defs:
                problems.append(unknown_name_problem(self.name, "step", key, value, list(defs)))
        substeps: dict[str, Step] = {}
        for step_name, step_class in defs.items():
            if step_name in self._specs or hasattr(type(self), step_name):
                raise StepError(
                    f"pipeline '{self.name}': step name {step_name!r} clashes with a parameter or "
                    "attribute of the pipeline; rename the step in step_defs"
                )
            layer = steps_layer.get(step_name) or {}
            if not isinstance(layer, Mapping):
                problems.append(
                    f"step '{self.name}': steps['{step_name}'] = {layer!r} is not accepted; give a "
                    "mapping of parameter names to values"
                )
                layer = {}
            sub = step_class._build(step_name, self, layer, problems)
            object.__setattr__(self, step_name, sub)
            substeps[step_name] = sub
        object.__setattr__(self, "_steps", substeps)

    def __setattr__(self, key: str, value: Any) -> None:
        steps = self.__dict__.get("_steps")
        if steps is not None and key in steps:
            if not isinstance(value, Step):
                raise StepError(
                    f"pipeline '{self.name}': {key} must stay a step; got {value!r}. Set its "
                    f"parameters instead (pipe.{key}.<parameter> = value)"
                )
            object.__setattr__(value, "parent", self)
            object.__setattr__(value, "name", key)
            steps[key] = value
        super().__setattr__(key, value)

    @property
    def substeps(self) -> dict[str, Step]:
        """dict of str to Step: The pipeline's steps by name, in order."""
        return dict(self._steps)

    def input_threads(self) -> int:
        """Threads that read the large images of an input file: the most any running step reads on.

        Returns
        -------
        int
            1 when the pipeline is skipped or no step's kernels run on threads.
        """
        if self.skip:
            return 1
        return max([1, *(step.input_threads() for step in self.substeps.values())])

    @classmethod
    def _crds_layer(cls, data: Any, step_defs: Mapping[str, Any] | None) -> dict[str, Any]:
        if not is_model(data):
            return {}
        from pipeline_core.references.lookup import get_step_parameters

        if step_defs is not None:
            defs = resolve_step_defs(step_defs, owner=cls.__name__)
        else:
            defs = resolve_step_defs(cls.step_defs, owner=cls.__name__, pipeline_class=cls)
        own = layer_from_values(get_step_parameters(cls, data), source=f"CRDS parameters of {cls.__name__}")
        steps = {name: sub._crds_layer(data, None) for name, sub in defs.items()}
        steps = {name: layer for name, layer in steps.items() if layer}
        return merge_layers({"steps": steps} if steps else {}, own)

    def get_pars(self) -> dict[str, Any]:
        """Return the pipeline's parameters and, under ``"steps"``, each step's.

        Returns
        -------
        dict
        """
        pars = super().get_pars()
        pars["steps"] = {name: step.get_pars() for name, step in self._steps.items()}
        return pars

    def _config(self) -> StepConfig:
        pars = super().get_pars()
        return StepConfig(
            class_name=type(self).class_path(),
            name=self.name,
            parameters=pars,
            steps=[step._config() for step in self._steps.values()],
        )

    def _cal_step_name(self) -> str | None:
        return self.cal_step_key

    def product_suffix(self) -> str:
        """Return the suffix of the pipeline's final product.

        Returns
        -------
        str
            ``suffix``, else :attr:`default_suffix`, else :attr:`class_alias`, else
            the last step's product suffix, else the name in lower case.
        """
        if self.suffix or self.default_suffix or self.class_alias:
            return self.suffix or self.default_suffix or self.class_alias  # type: ignore[return-value]
        if self._steps:
            return list(self._steps.values())[-1].product_suffix()
        return self.name.lower()

    def process(self, input: Any) -> Any:
        """Run the steps in order, each one's output feeding the next.

        Coded pipelines override this and call their steps themselves
        (``self.jump.run(model)``).

        Parameters
        ----------
        input : object
            The pipeline's (opened) input.

        Returns
        -------
        object
            The last step's result.
        """
        data = input
        for step in self._steps.values():
            data = step.run(data)
        return data
