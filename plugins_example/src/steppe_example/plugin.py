"""The plugin module steppe loads through the ``pipeline_core.plugins`` entry point.

It only describes the step (plain data): the step module is imported when the
step is first resolved by name, not when steppe lists the installed steps.
"""

from __future__ import annotations

from pipeline_core import hookimpl
from pipeline_core.plugins.manager import StepDescriptor

__all__ = ["register_steps"]


@hookimpl
def register_steps() -> list[StepDescriptor]:
    """Declare the steps of steppe-example-plugin.

    Returns
    -------
    list of StepDescriptor
        The ``ramp_dq_summary`` step.
    """
    return [
        StepDescriptor(
            class_path="steppe_example.step.RampDQSummaryStep",
            alias="ramp_dq_summary",
            parallel=False,
        )
    ]
