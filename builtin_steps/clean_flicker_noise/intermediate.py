"""Science inputs (ramp, rate image or rate cube) and diagnostic products built from them."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline_core.datamodels import CubeModel, ImageModel, RampModel, open_model
from pipeline_core.errors import StepError

__all__ = ["open_science", "intermediate_model"]


def open_science(step: Any, step_input: Any) -> Any:
    """Open the input as a RampModel, ImageModel or CubeModel, or raise a clear error.

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (named in the error).
    step_input : str, os.PathLike or DataModel
        The input given to ``process``.

    Returns
    -------
    RampModel, ImageModel or CubeModel

    Raises
    ------
    pipeline_core.errors.StepError
        If the input is another kind of model.
    """
    model = open_model(step_input)
    if not isinstance(model, (RampModel, ImageModel, CubeModel)):
        raise StepError(
            f"step {step.name}: needs a ramp (RampModel), a rate image (ImageModel) or a rate cube "
            f"(CubeModel), got {type(model).__name__} from '{model.meta.filename or step_input!r}'"
        )
    return model


def intermediate_model(model: Any, data: np.ndarray, *, ramp: bool = True) -> Any:
    """Wrap a diagnostic array in a model carrying the metadata of ``model``.

    Parameters
    ----------
    model : DataModel
        Source of the metadata.
    data : numpy.ndarray
        2-D, 3-D or (with ``ramp``) 4-D array.
    ramp : bool
        Whether a 4-D array may be wrapped as a RampModel.

    Returns
    -------
    ImageModel, CubeModel or RampModel
        By the number of dimensions of ``data``.
    """
    cls = {2: ImageModel, 3: CubeModel}.get(data.ndim, RampModel if ramp else None)
    if cls is None:
        raise ValueError(f"cannot wrap a {data.ndim}-D array")
    out = cls(data=np.asarray(data, dtype=np.float32))
    out.update(model)
    return out
