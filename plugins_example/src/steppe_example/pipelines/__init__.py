"""ASDF pipeline files shipped with the plugin.

:data:`DETECTOR1_DQ_SUMMARY` runs steppe's Detector1 steps up to ``jump``, then
``ramp_dq_summary``, then ``ramp_fit``::

    from pipeline_core import Pipeline
    from steppe_example.pipelines import DETECTOR1_DQ_SUMMARY

    result = Pipeline.call("jw..._uncal.fits", config_file=DETECTOR1_DQ_SUMMARY)

``python -m steppe_example.pipelines`` prints the path, for the command line::

    steppe run "$(python -m steppe_example.pipelines)" jw..._uncal.fits
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["DETECTOR1_DQ_SUMMARY"]

#: Path of ``detector1_dq_summary.asdf``, installed with the package.
DETECTOR1_DQ_SUMMARY = str(files(__name__) / "detector1_dq_summary.asdf")
