"""The ``ramp_fit`` step: optimally weighted least-squares slopes.

Modules: :mod:`~builtin_steps.ramp_fit.weights` (optimal-weighting
coefficients), :mod:`~builtin_steps.ramp_fit.ols` (the fitting kernel) and
:mod:`~builtin_steps.ramp_fit.step`
(:class:`~builtin_steps.ramp_fit.step.RampFitStep`).
"""
