"""Saving a step's products: naming, the ``save_results`` rules and atomic writes.

:class:`ProductSaving` is the part of :class:`~pipeline_core.steps.step.Step` that turns
a result into files. It reads the step's saving parameters (``save_results``,
``output_file``, ``output_dir``, ``output_ext``, ``output_use_model``,
``output_use_index``, ``search_output_file``, ``suffix``) and its place in a
pipeline (``parent``), and names products by the JWST rules of
:func:`pipeline_core.output.make_output_path`. Before a product is written, its
provenance is recorded (:func:`pipeline_core.steps.provenance.record_provenance`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline_core.errors import StepError
from pipeline_core.output import make_output_path

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.datamodels import DataModel
    from pipeline_core.steps.step import Step

__all__ = ["ProductSaving", "is_model", "model_filename"]


def is_model(obj: Any) -> bool:
    """Tell whether an object is a data model (it has ``meta`` and ``save``).

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    return not isinstance(obj, type) and hasattr(obj, "meta") and hasattr(obj, "save")


def model_filename(obj: Any) -> str | None:
    """Return a data model's ``meta.filename``, or None.

    Parameters
    ----------
    obj : object

    Returns
    -------
    str or None
        None for objects that are not models and for models without a file name.
    """
    if not is_model(obj):
        return None
    name = getattr(obj.meta, "filename", None)
    return name if isinstance(name, str) and name else None


class ProductSaving:
    """The product naming and saving behaviour of every step.

    Mixed into :class:`~pipeline_core.steps.step.Step`; it relies on the step's saving
    parameters, ``name``, ``parent``, ``class_alias``, ``default_suffix``, ``log``
    and the input file name recorded when the run started.
    """

    # these are provided by Step (parameters and class attributes)
    if TYPE_CHECKING:  # pragma: no cover
        name: str
        parent: Step | None
        class_alias: str | None
        default_suffix: str | None
        suffix: str | None
        save_results: bool
        output_file: str | None
        output_ext: str
        output_use_model: bool
        output_use_index: bool
        search_output_file: bool
        _input_name: str | None
        log: Any

    def _root(self) -> Any:
        step: Any = self
        while step.parent is not None:
            step = step.parent
        return step

    def _search(self, attribute: str) -> Any:
        """The first non-None value of ``attribute`` on this step or its parents."""
        step: Any = self
        while step is not None:
            value = getattr(step, attribute, None)
            if value is not None:
                return value
            step = step.parent
        return None

    def saves_results(self) -> bool:
        """Tell whether this step saves its result.

        Returns
        -------
        bool
            True when ``save_results`` is set or ``output_file`` is given: naming
            the product's file asks for it to be written, as in stpipe.
            ``output_dir`` alone only says where saved products go.
        """
        return bool(self.save_results) or bool(self.output_file)

    def product_suffix(self) -> str:
        """Return the suffix of this step's products.

        Returns
        -------
        str
            The ``suffix`` parameter, else :attr:`default_suffix`, else
            :attr:`class_alias`, else the step's name in lower case.
        """
        return self.suffix or self.default_suffix or self.class_alias or self.name.lower()

    def _known_suffixes(self) -> set[str]:
        from pipeline_core.plugins.manager import registry

        known = {d.alias for d in registry().descriptors() if d.alias}
        stack: list[Any] = [self._root()]
        while stack:
            step = stack.pop()
            known.add(step.product_suffix())
            if step.class_alias:
                known.add(step.class_alias)
            stack.extend(getattr(step, "_steps", {}).values())
        return known

    def output_path(self, model: Any = None, suffix: str | None = None, index: int | None = None) -> str:
        """Return the path a product of this step is saved to.

        Parameters
        ----------
        model : DataModel, optional
            The product (used when ``output_use_model`` is set).
        suffix : str, optional
            The product suffix; default :meth:`product_suffix`.
        index : int, optional
            The product's number, for steps with several products.

        Returns
        -------
        str
            The input's name with its own suffix replaced (or ``output_file`` with
            the suffix appended), in ``output_dir`` (this step's, else its
            pipeline's, else the current directory).
        """
        output_file = self.output_file
        if output_file is None and self.search_output_file and self.parent is not None:
            output_file = self.parent._search("output_file")
        base = None
        if self.output_use_model:
            base = model_filename(model)
        if base is None:
            root = self._root()
            base = root._input_name or self._input_name or model_filename(model) or self.name
        return make_output_path(
            base,
            suffix or self.product_suffix(),
            output_file=output_file,
            output_dir=self._search("output_dir"),
            known_suffixes=self._known_suffixes(),
            ext=self.output_ext,
            index=index,
        )

    def save_model(
        self, model: DataModel, suffix: str | None = None, *, force: bool = False, idx: int | None = None
    ) -> str | None:
        """Save a product, if the step saves its results (or ``force``).

        Parameters
        ----------
        model : DataModel
            The product; its provenance is recorded, then it is written
            atomically by its ``save`` method.
        suffix : str, optional
            The product suffix; default :meth:`product_suffix`.
        force : bool, optional
            Save even when the step does not save its results (neither
            ``save_results`` nor ``output_file`` is set).
        idx : int, optional
            The product's number, for steps with several products.

        Returns
        -------
        str or None
            The path written, or None when nothing was saved.

        Raises
        ------
        StepError
            If ``model`` cannot be saved (it has no ``save`` method).
        """
        if not (force or self.saves_results()):
            return None
        if not is_model(model):
            raise StepError(
                f"step '{self.name}': cannot save a {type(model).__name__}: only data models "
                "(objects with meta and save()) can be saved; turn off save_results (and unset "
                "output_file) for this step"
            )
        from pipeline_core.steps.provenance import record_provenance

        record_provenance(self, model)
        path = self.output_path(model, suffix=suffix, index=idx)
        written = model.save(path)
        path = written if isinstance(written, str) else path
        self.log.info("Step %s saved %s", self.name, path)
        return path

    def _save_result(self, result: Any) -> None:
        if isinstance(result, (tuple, list)) and result and all(is_model(r) for r in result):
            for position, item in enumerate(result):
                self.save_model(item, idx=position if self.output_use_index and len(result) > 1 else None)
        else:
            self.save_model(result)
