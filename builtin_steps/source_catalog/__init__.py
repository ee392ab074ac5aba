"""source_catalog: detect, deblend and measure the sources of a mosaic (``cat.ecsv``, ``segm.fits``)."""

from builtin_steps.source_catalog.step import SourceCatalogStep

__all__ = ["SourceCatalogStep"]
