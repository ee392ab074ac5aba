"""The ``ramp_fit`` step: count rates by weighted least squares or likelihood.

Modules: :mod:`~builtin_steps.ramp_fit.weights` (optimal-weighting
coefficients), :mod:`~builtin_steps.ramp_fit.segments` (fitting one
integration: segments, slopes, variances), :mod:`~builtin_steps.ramp_fit.ols`
(the OLS kernel over whole exposures: blocks of pixels, integrations, DQ),
:mod:`~builtin_steps.ramp_fit.covariance` (covariance of resultant
differences for a read pattern), :mod:`~builtin_steps.ramp_fit.tridiagonal`
(least squares under a tridiagonal covariance, omission statistics),
:mod:`~builtin_steps.ramp_fit.likely` (the likelihood kernel, ``LIKELY``),
:mod:`~builtin_steps.ramp_fit.optional` and
:mod:`~builtin_steps.ramp_fit.fitopt_model` (the optional ``fitopt``
product), :mod:`~builtin_steps.ramp_fit.step_support` and
:mod:`~builtin_steps.ramp_fit.step`
(:class:`~builtin_steps.ramp_fit.step.RampFitStep`).
"""

from builtin_steps.ramp_fit.step import RampFitStep

__all__ = ["RampFitStep"]
