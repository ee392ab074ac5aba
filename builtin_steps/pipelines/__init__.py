"""Built-in pipelines: the JWST Detector1 (:class:`Detector1Pipeline`) and Image2
(:class:`Image2Pipeline`) and Image3 (:class:`Image3Pipeline`) stages.

``calwebb_detector1.asdf`` in this package is the pipeline's complete parameter
file in the stpipe layout (``steppe run`` accepts it as a config file).
"""

from builtin_steps.pipelines.detector1 import Detector1Pipeline
from builtin_steps.pipelines.image2 import Image2Pipeline
from builtin_steps.pipelines.image3 import Image3Pipeline

__all__ = ["Detector1Pipeline", "Image2Pipeline", "Image3Pipeline"]
