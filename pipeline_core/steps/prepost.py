"""Pre- and post-hooks: what a step runs on its input before, and on its result after.

A step's ``pre_hooks`` and ``post_hooks`` parameters (the stpipe convention) list
registered step names or class paths, :class:`~pipeline_core.steps.step.Step` classes or
instances, or plain callables. :func:`run_step_hooks` runs them in order, each one
on the output of the previous one; a hook that returns None leaves the data as it
was (a callable that only inspects or changes the model in place).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipeline_core.errors import ParameterError, PluginError
from pipeline_core.plugins import StepBase, registry

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.steps.step import Step

__all__ = ["run_step_hooks"]


def run_step_hooks(step: Step, hooks: list[Any], data: Any, kind: str) -> Any:
    """Run a step's hooks on ``data``, in order.

    Parameters
    ----------
    step : Step
        The step the hooks belong to (the parent of hook steps built from a class
        or a name; named in messages).
    hooks : list
        The ``pre_hooks`` or ``post_hooks`` value.
    data : object
        The step's input (pre-hooks) or result (post-hooks).
    kind : str
        ``"pre"`` or ``"post"``.

    Returns
    -------
    object
        The last non-None hook output, else ``data``.

    Raises
    ------
    ParameterError
        If a hook names an unregistered step or is not usable.
    """
    for position, hook in enumerate(hooks):
        runner = _runner(step, hook, kind, position)
        step.log.info("Step %s running %s-hook %s", step.name, kind, _label(hook))
        out = runner(data)
        if out is not None:
            data = out
    return data


def _runner(step: Step, hook: Any, kind: str, position: int) -> Callable[[Any], Any]:
    if isinstance(hook, StepBase):
        return hook.run
    if isinstance(hook, str):
        try:
            hook = registry().resolve(hook)
        except PluginError as exc:
            raise ParameterError(
                f"step '{step.name}': {kind}_hooks[{position}] = {hook!r} is not a registered "
                f"step: {exc}"
            ) from exc
    if isinstance(hook, type) and issubclass(hook, StepBase):
        return hook(parent=step).run
    if callable(hook):
        return hook
    raise ParameterError(
        f"step '{step.name}': {kind}_hooks[{position}] = {hook!r} is not usable; accepted: "
        "a registered step name or class path, a Step class or instance, or a callable"
    )


def _label(hook: Any) -> str:
    if isinstance(hook, str):
        return hook
    if isinstance(hook, StepBase):
        return repr(hook)
    return getattr(hook, "__qualname__", None) or repr(hook)
