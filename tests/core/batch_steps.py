"""Small steps used by the batch tests; importable, so worker processes can find them."""

from __future__ import annotations

import os

import numpy as np

from pipeline_core import Pipeline, Step
from pipeline_core.parallel.rows import map_row_slices
from tests.core.parallel_kernels import scale_rows


class AddStep(Step):
    """Add `amount` to the data; fail on NaN; kill its process on -999."""

    class_alias = "add_amount"
    spec = "amount = float(default=1.0)  # added to the data"

    def process(self, model):
        if np.isnan(model.data).any():
            raise ValueError(f"NaN in {model.meta.filename}")
        if (model.data == -999).any():
            os._exit(7)
        model.data = model.data + np.float32(self.amount)
        self.log.info("added %s in process %d", self.amount, os.getpid())
        return model


class ScaleStep(Step):
    """Multiply the data by 2 with map_row_slices, using maximum_cores."""

    class_alias = "scale_rows"
    parallel = True

    def process(self, model):
        workers = self.max_workers
        self.log.info("max_workers=%d", workers)
        result = map_row_slices(scale_rows, {"data": model.data}, max_workers=workers)
        model.data = result["data"].astype(np.float32)
        return model


class AddScalePipeline(Pipeline):
    """Add, then scale."""

    class_alias = "add_scale"
    step_defs = {"add": AddStep, "scale": ScaleStep}

    def process(self, model):
        return self.scale.run(self.add.run(model))
