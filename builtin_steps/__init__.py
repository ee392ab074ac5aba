"""steppe's built-in steps: the JWST Detector1 stage for near-infrared detectors.

This package is a plugin like any other: it registers its steps with
:mod:`pipeline_core` through the ``pipeline_core.plugins`` entry point
(:mod:`builtin_steps.plugin`).
"""
