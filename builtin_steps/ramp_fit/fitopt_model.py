"""The optional ramp-fitting product (suffix ``fitopt``): :class:`RampFitOutputModel`."""

from __future__ import annotations

from pipeline_core.datamodels.base import ArraySpec, DataModel

__all__ = ["RampFitOutputModel"]


class RampFitOutputModel(DataModel):
    """Per-segment ramp-fitting results, in the JWST ``RampFitOutputModel`` layout.

    Arrays (float32): ``slope``, ``sigslope``, ``var_poisson``,
    ``var_rnoise``, ``yint``, ``sigyint`` and ``weights`` of shape
    ``(nints, max_segments, ny, nx)``; ``pedestal`` ``(nints, ny, nx)``;
    ``crmag`` ``(nints, max_jumps, ny, nx)``.  Extension names are the
    upper-case attribute names, as in JWST files.

    Examples
    --------
    >>> import numpy as np
    >>> opt = RampFitOutputModel(slope=np.zeros((1, 2, 4, 4)))
    >>> opt.slope.shape
    (1, 2, 4, 4)
    """

    arrays = (
        ArraySpec("slope", "SLOPE", "float32", (4,), required=True),
        ArraySpec("sigslope", "SIGSLOPE", "float32", (4,)),
        ArraySpec("var_poisson", "VAR_POISSON", "float32", (4,)),
        ArraySpec("var_rnoise", "VAR_RNOISE", "float32", (4,)),
        ArraySpec("yint", "YINT", "float32", (4,)),
        ArraySpec("sigyint", "SIGYINT", "float32", (4,)),
        ArraySpec("pedestal", "PEDESTAL", "float32", (3,)),
        ArraySpec("weights", "WEIGHTS", "float32", (4,)),
        ArraySpec("crmag", "CRMAG", "float32", (4,)),
    )
    primary = "slope"
