"""Helpers for the course on the geometry of semantic-segmentation networks.

Every public name is re-exported here *lazily*: ``import visual`` imports neither torch nor
matplotlib; the submodule that defines a name is imported the first time the name is used
(PEP 562 module ``__getattr__``). Notebooks therefore write, e.g.::

    from visual import trace, conv_output_size, plot_dilated_kernel

Each submodule's ``__all__`` must equal its entry below (``tests/test_package.py`` checks).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# submodule (relative to this package) -> the public names it defines.
_SUBMODULE_EXPORTS: dict[str, tuple[str, ...]] = {
    # Conv arithmetic: pure-Python formulas (issue: dilation & receptive fields).
    "conv_arithmetic": (
        "conv_output_size",
        "effective_kernel_size",
        "StackStep",
        "stack_receptive_field",
        "receptive_field_cone",
        "dilated_footprint",
        "gridding_count_map",
        "has_holes",
        "hdc_max_distance",
        "satisfies_hdc",
    ),
    # Tracing real nn.Modules: sizes, strides, receptive fields.
    "receptive_field": (
        "Trace",
        "TraceRow",
        "trace",
        "meta_device",
        "gradient_receptive_field",
        "effective_receptive_field",
        "erf_std",
        "conv_stack",
    ),
    # Output stride of ResNet backbones.
    "output_stride": (
        "RESNET_STAGES",
        "DILATION_SCHEDULES",
        "StrideRow",
        "StrideTable",
        "stride_table",
        "semseg_resnet",
        "dilation_flags",
        "upsampling_drift",
        "upsampled_positions",
        "StrideCost",
        "CostTable",
        "measure_cost",
        "cost_table",
    ),
    # From-scratch linear / bilinear interpolation.
    "interpolation": (
        "linear_interpolate",
        "bilinear_interpolate",
        "bilinear_interpolate_gather",
        "bilinear_interpolate_matmul",
        "source_coordinates",
        "linear_weights",
        "LinearWeights",
        "interpolation_matrix",
        "bilinear_neighbours",
        "Neighbour",
        "resample_image",
        "RESAMPLING_METHODS",
        "upsample_segmentation",
        "SEGMENTATION_UPSAMPLING",
        "toy_label_map",
        "VOC_CLASSES",
        "feature_map_size",
    ),
    # Models.
    "models.resnet": (
        "RESNET_ARCHS",
        "DilatedBasicBlock",
        "dilated_resnet",
        "load_checkpoint",
    ),
    "models.pspnet": (
        "PSPNetConfig",
        "PyramidBatchNorm2d",
        "PyramidPoolingModule",
        "PSPHead",
        "ResNetFeatures",
        "PSPNet",
        "pspnet_loss",
        "PartCost",
        "part_costs",
        "adaptive_pool_windows",
        "pspnet_sizes",
        "pyramid_features",
    ),
    # Data: sample photo, synthetic segmentation dataset.
    "data": (
        "load_sample_image",
        "SyntheticShapes",
    ),
    # Training loop and metrics.
    "train": (
        "TrainConfig",
        "PAPER_TRAINING",
        "CLASSROOM_TRAINING",
        "poly_lr",
        "confusion_matrix",
        "SegmentationMetrics",
        "segmentation_metrics",
        "evaluate",
        "History",
        "train_model",
        "GRADIENT_PARTS",
        "loss_gradients",
        "combined_gradient_norms",
    ),
    # Plot helpers.
    "plots.receptive_field": (
        "kernel_footprint_image",
        "cone_image",
        "plot_dilated_kernel",
        "plot_receptive_field_stack",
        "plot_receptive_field_growth",
        "plot_gridding",
        "plot_effective_receptive_field",
    ),
    "plots.output_stride": (
        "plot_stage_sizes",
        "plot_feature_grid",
        "plot_feature_centres",
        "plot_upsampling_drift",
        "plot_stride_cost",
    ),
    "plots.interpolation": (
        "plot_linear_interpolation",
        "plot_sample_grids",
        "plot_bilinear_neighbours",
        "plot_values",
        "plot_interpolation_matrix",
        "plot_resampling",
        "plot_resampling_comparison",
        "plot_class_map",
        "plot_feature_alignment",
        "plot_timings",
    ),
    "plots.pspnet": (
        "ARCHITECTURE_NODES",
        "plot_pspnet_architecture",
        "label_colormap",
        "plot_training_history",
        "plot_label_map",
        "plot_segmentation_panels",
        "bin_window_boxes",
        "window_coverage",
        "coverage_overlay",
        "box_polygons",
        "plot_pyramid_bins",
        "plot_pyramid_features",
        "plot_part_costs",
    ),
    # Slider explorers.
    "widgets.core": (
        "Explorer",
        "sweep",
        "freeze_layout",
        "finish_explorer",
    ),
    "widgets.receptive_field": (
        "receptive_field_summary",
        "gridding_summary",
        "gradient_rf_summary",
        "effective_rf_summary",
        "explore_receptive_field",
        "explore_gridding",
        "explore_gradient_rf",
        "explore_effective_rf",
    ),
    "widgets.output_stride": (
        "output_stride_summary",
        "alignment_summary",
        "explore_output_stride",
        "explore_alignment",
    ),
    "widgets.interpolation": (
        "explore_linear_interpolation",
        "explore_align_corners",
        "explore_bilinear_point",
        "explore_resampling",
        "explore_interpolation_matrix",
        "explore_segmentation_upsampling",
        "explore_feature_alignment",
    ),
    "widgets.pspnet": (
        "size_summary",
        "bins_summary",
        "explore_pspnet_sizes",
        "explore_pyramid_bins",
        "explore_part_costs",
        "explore_aux_weight",
        "explore_predictions",
    ),
}

_NAME_TO_MODULE: dict[str, str] = {
    name: module for module, names in _SUBMODULE_EXPORTS.items() for name in names
}

__all__ = sorted(_NAME_TO_MODULE)


def __getattr__(name: str) -> Any:
    module_name = _NAME_TO_MODULE.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # cache: later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
