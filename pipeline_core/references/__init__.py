"""Reference files and CRDS parameter files.

- :mod:`~pipeline_core.references.lookup`: a step's reference file
  (``override_<reftype>``, then the ``get_reference_file`` hook, then CRDS), the
  checks of a reference's type and shape, and the CRDS ``pars-*`` parameter layer.
- :mod:`~pipeline_core.references.crds_client`: the ``crds`` client, its settings
  (read when a step runs) and the embedded offline cache.
"""

from pipeline_core.references.lookup import (
    NOT_APPLICABLE,
    check_reference_shape,
    check_reference_type,
    get_reference_file,
    get_step_parameters,
)

__all__ = [
    "NOT_APPLICABLE",
    "check_reference_shape",
    "check_reference_type",
    "get_reference_file",
    "get_step_parameters",
]
