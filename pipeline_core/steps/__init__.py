"""Steps and pipelines: the top layer of the framework.

- :mod:`~pipeline_core.steps.step`: :class:`Step` (parameters, ``call``/``run``,
  reference files, skipping).
- :mod:`~pipeline_core.steps.pipeline`: :class:`Pipeline` (``step_defs``,
  ``steps={...}``, pipelines defined by ASDF step lists).
- :mod:`~pipeline_core.steps.resolve`: a name or parameter file to a step class.
- :mod:`~pipeline_core.steps.saving`, :mod:`~pipeline_core.steps.provenance`:
  saving a step's products and recording what made them.
- :mod:`~pipeline_core.steps.prepost`: ``pre_hooks`` and ``post_hooks``.
"""

from pipeline_core.steps.pipeline import Pipeline
from pipeline_core.steps.step import Step

__all__ = ["Pipeline", "Step"]
