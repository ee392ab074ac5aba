"""outlier_detection: flag cosmic rays and other outliers left in the exposures of a product."""

from builtin_steps.outlier_detection.step import OutlierDetectionStep

__all__ = ["OutlierDetectionStep"]
