"""The ``ramp_fit`` step: optimally weighted least-squares slopes.

Modules: :mod:`~builtin_steps.ramp_fit.weights` (optimal-weighting
coefficients), :mod:`~builtin_steps.ramp_fit.segments` (fitting one
integration: segments, slopes, variances), :mod:`~builtin_steps.ramp_fit.ols`
(the kernel over whole exposures: blocks of pixels, integrations, DQ) and
:mod:`~builtin_steps.ramp_fit.step`
(:class:`~builtin_steps.ramp_fit.step.RampFitStep`).
"""

from builtin_steps.ramp_fit.step import RampFitStep

__all__ = ["RampFitStep"]
