"""Configuration: parameter specs, the precedence layers and ASDF parameter files.

- :mod:`~pipeline_core.config.params`: stpipe spec strings to typed, validated
  values, and :func:`~pipeline_core.config.params.merge_layers`, which merges the
  layers of parameter precedence (coded defaults < CRDS ``pars-*`` file <
  ``config_file`` < keyword arguments).
- :mod:`~pipeline_core.config.parfile`: ASDF parameter files in the stpipe layout.

This layer knows nothing of :class:`~pipeline_core.Step`; the step layer hands
it spec strings and values.
"""

from pipeline_core.config.params import merge_layers, parse_spec, validate
from pipeline_core.config.parfile import StepConfig, read_parameter_file, write_parameter_file

__all__ = [
    "StepConfig",
    "merge_layers",
    "parse_spec",
    "read_parameter_file",
    "validate",
    "write_parameter_file",
]
