"""FlatFieldStep: divide an imaging exposure by its flat field (``flat`` reference)."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import mark_skipped
from builtin_steps._nanflags import match_nans_and_flags
from builtin_steps.flat_field.apply import apply_flat
from pipeline_core import Step
from pipeline_core.datamodels import CubeModel, FlatModel, ImageModel, open_model
from pipeline_core.datamodels.dqflags import pixel as PIXEL
from pipeline_core.errors import ReferenceFileError, StepError

__all__ = ["FlatFieldStep"]


class FlatFieldStep(Step):
    """Flat-field an image with the ``flat`` reference of its detector, filter and pupil.

    Unusable flat pixels (NaN, zero, or flagged ``NO_FLAT_FIELD``) are left
    uncorrected and flagged ``NO_FLAT_FIELD`` + ``DO_NOT_USE``; the variances
    are scaled and the flat's own uncertainty becomes ``VAR_FLAT``. NIRSpec
    spectroscopic flats (``fflat``, ``sflat``, ``dflat``) are not provided.
    """

    class_alias = "flat_field"
    legacy_class_paths = ("jwst.flatfield.flat_field_step.FlatFieldStep",)
    reference_file_types = ("flat", "fflat", "sflat", "dflat")
    spec = """
        save_interpolated_flat = boolean(default=False) # Save interpolated NRS flat
        user_supplied_flat = string(default=None)  # User-supplied flat
        inverse = boolean(default=False)  # Invert the operation
    """

    def process(self, step_input: Any) -> Any:
        """Apply the flat.

        Parameters
        ----------
        step_input : str, os.PathLike, ImageModel or CubeModel
            The exposure.

        Returns
        -------
        ImageModel or CubeModel
            The flat-fielded exposure (skipped when the flat is N/A).
        """
        model = open_model(step_input)
        if not isinstance(model, (ImageModel, CubeModel)):
            self.log.warning("Step %s expects an ImageModel or CubeModel, got a %s; step skipped",
                             self.name, type(model).__name__)
            mark_skipped(self, model)
            return model
        if str(model.meta.instrument.name or "").upper() == "NIRSPEC":
            raise StepError(
                f"step '{self.name}': '{model.meta.filename or '<in memory>'}' is a NIRSpec exposure; "
                "its flats (FFLAT, SFLAT, DFLAT) are not provided here. Skip the step or calibrate "
                "it with the JWST pipeline."
            )
        flat = self._flat(model)
        if flat is None:
            return model
        if self.save_interpolated_flat:
            self.log.info("save_interpolated_flat applies to NIRSpec only; nothing saved")
        do_not_use, no_flat = PIXEL["DO_NOT_USE"], PIXEL["NO_FLAT_FIELD"]
        result = apply_flat(
            model.data, model.dq, model.var_poisson, model.var_rnoise,
            flat.data, flat.dq, flat.err,
            do_not_use=do_not_use, no_flat_field=no_flat, inverse=self.inverse,
        )
        model.data, model.err, model.dq = result.data, result.err, result.dq
        model.var_poisson, model.var_rnoise, model.var_flat = (
            result.var_poisson, result.var_rnoise, result.var_flat,
        )
        match_nans_and_flags(model, do_not_use)
        model.meta.cal_step.flat_field = "COMPLETE"
        return model

    def _flat(self, model: Any) -> Any:
        from builtin_steps._common import load_reference
        from pipeline_core.references.lookup import check_reference_shape

        if self.user_supplied_flat is not None:
            path = self.user_supplied_flat
            self.log.info("User-supplied flat %s given; flat reference files ignored", path)
            try:
                ref = open_model(path, model_class=FlatModel)
            except Exception as error:
                raise ReferenceFileError(
                    f"step '{self.name}': user_supplied_flat = {path!r} cannot be opened as a flat "
                    f"({error}). Give a FLAT reference file (SCI, DQ, ERR extensions)."
                ) from error
            model.meta.ref_file.flat.name = path
            return check_reference_shape(self, "flat", ref, model)
        ref = load_reference(self, model, "flat")
        if ref is not None and not isinstance(ref, FlatModel):
            ref = FlatModel(ref)
        return ref
