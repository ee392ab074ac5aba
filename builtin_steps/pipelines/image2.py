"""Image2Pipeline: count rates to calibrated images (JWST ``calwebb_image2``)."""

from __future__ import annotations

from typing import Any

from builtin_steps.association import load_level2
from pipeline_core import Pipeline
from pipeline_core.datamodels import CubeModel, open_model

__all__ = ["Image2Pipeline", "STEP_ORDER", "IMAGE_EXP_TYPES"]

#: The steps of the imaging Image2 stage, in the order they run.
STEP_ORDER = ("bkg_subtract", "assign_wcs", "flat_field", "photom", "resample")

#: Exposure types whose 2-D products are also resampled (``i2d``).
IMAGE_EXP_TYPES = ("MIR_IMAGE", "NRC_IMAGE", "NIS_IMAGE", "FGS_IMAGE")


class Image2Pipeline(Pipeline):
    """Calibrate imaging count rates: background, WCS, flat field, flux, resampling.

    The input is one exposure (``rate`` or ``rateints`` file or model) or a
    level-2 association (``asn.json``, ``asn_type`` ``image2``) whose products
    each have a ``science`` member and optionally ``background`` members. For
    each product: ``bkg_subtract`` (only when backgrounds are listed),
    ``assign_wcs``, ``flat_field``, ``photom`` and, for 2-D images of the
    imaging exposure types, ``resample``, which saves the ``i2d`` product when
    the pipeline saves its results.

    Returns a list with one calibrated model per product; saved with suffix
    ``cal`` (``calints`` for cubes) and the product's name.
    """

    class_alias = "calwebb_image2"
    legacy_class_paths = ("jwst.pipeline.calwebb_image2.Image2Pipeline",)
    default_suffix = "cal"
    spec = """
        save_bsub = boolean(default=False) # Deprecated; use the background step's save_results parameter instead.
    """
    step_defs = {name: name for name in STEP_ORDER}

    def process(self, step_input: Any) -> Any:
        """Run the stage on every product of the input.

        Parameters
        ----------
        step_input : str, os.PathLike, ImageModel, CubeModel or association file
            The exposure(s).

        Returns
        -------
        list of ImageModel or CubeModel
            The calibrated product of each association product.
        """
        if self.save_bsub:
            self.log.warning(
                "The save_bsub parameter is deprecated; use the background step's save_results "
                "parameter instead."
            )
        asn = load_level2(step_input)
        if len(asn.products) > 1 and self.output_file is not None:
            self.log.warning("Multiple products in the association; output_file is ignored")
            self.output_file = None
        results = []
        for product in asn.products:
            self.log.info("Processing product %s", product.name)
            object.__setattr__(self, "_input_name", f"{product.name}.fits")
            result = self._process_product(product, asn.pool, asn.table)
            suffix = "calints" if isinstance(result, CubeModel) else "cal"
            result.meta.filename = f"{product.name}_{suffix}.fits"
            results.append(result)
        # name each saved product after its association product, as the JWST pipeline does
        self.output_use_model = True
        self.output_use_index = False
        if results and all(isinstance(r, CubeModel) for r in results) and self.suffix is None:
            self.suffix = "calints"
        return results

    def _process_product(self, product: Any, pool: str, table: str) -> Any:
        science = product.of_type("science")
        if len(science) != 1:
            self.log.warning("Wrong number of science files found in %s; using only the first one",
                             product.name)
        model = open_model(science[0])
        model.meta.asn.pool_name = pool
        model.meta.asn.table_name = table
        backgrounds = product.of_type("background")
        if backgrounds:
            self.bkg_subtract.suffix = "bsubints" if isinstance(model, CubeModel) else "bsub"
            if self.save_bsub:
                self.bkg_subtract.save_results = True
            self.bkg_subtract.bkg_list = backgrounds
            model = self.bkg_subtract.run(model)
        model = self.assign_wcs.run(model)
        model = self.flat_field.run(model)
        model = self.photom.run(model)
        exp_type = str(model.meta.exposure.type or "").upper()
        if exp_type in IMAGE_EXP_TYPES and model.data.ndim == 2:
            self.resample.save_results = self.save_results
            self.resample.suffix = "i2d"
            self.resample.run(model)
        self.log.info("Finished processing product %s", product.name)
        return model
