"""Image3Pipeline: the exposures of a product to a mosaic and its catalog (JWST ``calwebb_image3``)."""

from __future__ import annotations

import os
from typing import Any

from builtin_steps.library import ModelLibrary, load_level3
from pipeline_core import Pipeline

__all__ = ["Image3Pipeline", "STEP_ORDER"]

#: The steps of the Image3 stage, in the order they run.
STEP_ORDER = ("assign_mtwcs", "tweakreg", "skymatch", "outlier_detection", "resample", "source_catalog")


class Image3Pipeline(Pipeline):
    """Align, sky-match, clean and combine calibrated images; catalog the mosaic.

    The input is a level-3 association (``asn.json``, ``asn_type`` ``image3``)
    or a list of calibrated images (``cal``). The exposures are held in a
    :class:`~builtin_steps.library.ModelLibrary`. With ``in_memory=False`` each
    is read from its file only while a step works on it, changed exposures go
    to a temporary folder, outlier detection's median is taken from files a
    band of rows at a time and the mosaic is drizzled one exposure at a time,
    so peak memory does not grow with the number of exposures. Saved products,
    named after the association's product: the flagged exposures (``crf``),
    the mosaic (``i2d``), the catalog (``cat.ecsv``) and the segmentation map
    (``segm.fits``). Returns the mosaic.
    """

    class_alias = "calwebb_image3"
    legacy_class_paths = ("jwst.pipeline.calwebb_image3.Image3Pipeline",)
    default_suffix = "i2d"
    spec = """
        in_memory = boolean(default=True)  # If False, preserve memory using temporary files at the expense of runtime
    """
    step_defs = {name: name for name in STEP_ORDER}

    def process(self, step_input: Any) -> Any:
        """Run the stage.

        Parameters
        ----------
        step_input : str, os.PathLike, list of images or ModelLibrary
            The association or the images.

        Returns
        -------
        ImageModel
            The mosaic (``i2d``).
        """
        library = step_input if isinstance(step_input, ModelLibrary) else ModelLibrary(
            load_level3(step_input), on_disk=not self.in_memory)
        product = library.asn.name
        object.__setattr__(self, "_input_name", f"{product}.fits")
        for name in ("tweakreg", "skymatch", "outlier_detection"):
            getattr(self, name).in_memory = self.in_memory
        library = self.assign_mtwcs.run(library)
        library = self.tweakreg.run(library)
        library = self.skymatch.run(library)
        library = self.outlier_detection.run(library)
        if self.save_results or self.outlier_detection.save_results:
            self._save_crf(library)
        mosaic = self.resample.run(library)
        mosaic.meta.filename = f"{product}_i2d.fits"
        mosaic.meta.asn.pool_name = library.asn.pool
        mosaic.meta.asn.table_name = library.asn.table
        library.close()  # the exposures (and the temporary files) are not needed by the catalog
        if self.save_results:
            self.source_catalog.save_results = True
        if self.source_catalog.output_dir is None:
            self.source_catalog.output_dir = self.output_dir
        self.source_catalog.run(mosaic)
        self.output_use_model = True
        return mosaic

    def _save_crf(self, library: ModelLibrary) -> None:
        from builtin_steps.association import product_name_from

        folder = self.output_dir or os.getcwd()
        for _, model in library.models(modify=False):
            stem = product_name_from(str(model.meta.filename))
            path = os.path.join(folder, f"{stem}_crf.fits")
            saved_name = model.meta.filename
            model.save(path)
            model.meta.filename = saved_name
            self.log.info("Saved %s", path)
