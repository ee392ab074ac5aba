"""Built-in pipelines: the JWST Detector1 stage (:class:`Detector1Pipeline`).

``calwebb_detector1.asdf`` in this package is the pipeline's complete parameter
file in the stpipe layout (``steppe run`` accepts it as a config file).
"""

from builtin_steps.pipelines.detector1 import Detector1Pipeline

__all__ = ["Detector1Pipeline"]
