"""Helpers for the course on the geometry of semantic-segmentation networks.

This file re-exports, in plain import lines, the names the notebooks use (and the names earlier
issues made a contract). Everything else stays in the submodule that defines it, e.g.
``from visual.checks import as_size``. ``import visual`` imports torch, torchvision, matplotlib
and ipywidgets, and changes nothing else (no seeds, no rcParams).
"""

__version__ = "0.1.0"

from visual.conv_arithmetic import (conv_output_size, effective_kernel_size, gridding_count_map, has_holes,
                                    hdc_max_distance, satisfies_hdc, stack_receptive_field)
from visual.trace import meta_device, trace
from visual.gradient_rf import conv_stack, effective_receptive_field, erf_std, gradient_receptive_field
from visual.output_stride import stride_table
from visual.cost import cost_table, part_costs
from visual.interpolation import (RESAMPLING_METHODS, bilinear_interpolate, bilinear_interpolate_gather,
                                  bilinear_interpolate_matmul, bilinear_neighbours, interpolation_matrix,
                                  linear_interpolate, linear_weights, resample_image, source_coordinates)
from visual.label_upsampling import VOC_CLASSES, feature_map_size, toy_label_map, upsample_segmentation
from visual.models.resnet import dilated_resnet, semseg_resnet
from visual.models.semseg_checkpoint import load_semseg_checkpoint
from visual.models.pspnet import adaptive_pool_windows, PSPNet, pspnet_loss, pyramid_features
from visual.data import load_sample_image, SyntheticShapes
from visual.context_shapes import ABLATION_MODELS, ContextShapes, PerPixelNet, train_context_model
from visual.metrics import confusion_matrix, evaluate, segmentation_metrics
from visual.train import CLASSROOM_TRAINING, loss_gradients, train_model
from visual.plots.receptive_field import (plot_dilated_kernel, plot_effective_receptive_field, plot_gridding,
                                          plot_receptive_field_growth, plot_receptive_field_stack)
from visual.plots.output_stride import (plot_feature_centres, plot_feature_grid, plot_stage_sizes,
                                        plot_stride_cost, plot_upsampling_drift)
from visual.plots.interpolation import (plot_bilinear_neighbours, plot_feature_alignment,
                                        plot_interpolation_matrix, plot_linear_interpolation,
                                        plot_resampling_comparison, plot_sample_grids, plot_timings,
                                        plot_values)
from visual.plots.label_upsampling import plot_class_map
from visual.plots.pspnet import (plot_part_costs, plot_pspnet_architecture, plot_pyramid_bins,
                                 plot_pyramid_features)
from visual.plots.segmentation import plot_label_map, plot_segmentation_panels, plot_training_history
from visual.widgets.core import sweep
from visual.widgets.receptive_field import (effective_rf_summary, explore_effective_rf, explore_gradient_rf,
                                            explore_gridding, explore_receptive_field)
from visual.widgets.output_stride import alignment_summary, explore_alignment, explore_output_stride
from visual.widgets.interpolation import (explore_align_corners, explore_bilinear_point,
                                          explore_feature_alignment, explore_interpolation_matrix,
                                          explore_linear_interpolation, explore_resampling,
                                          explore_segmentation_upsampling)
from visual.widgets.pspnet import (bins_summary, explore_aux_weight, explore_part_costs, explore_predictions,
                                   explore_pspnet_sizes, explore_pyramid_bins)
from visual.inference import predict_probabilities, sliding_windows
from visual.evaluation import EvaluationResult, evaluate_dataset, intersection_and_union
from visual.class_info import class_names, class_palette
from visual.widgets.evaluation import explore_sliding_windows
from visual.exercises import number_problems, report, tensor_problems, unfinished
