"""Receptive fields measured with gradients, the effective receptive field (Luo et al. 2016), a toy conv stack."""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from visual.checks import (as_size, check_bool, check_choice, check_elements, check_int, check_ints, check_module,
                           check_tensor)
from visual.conv_arithmetic import conv_output_size, effective_kernel_size, stack_receptive_field
from visual.trace import infer_in_channels
from visual.trace_rules import MAX_POOL, METADATA, call_arg, pool_args, tensors_in

__all__ = ["gradient_receptive_field", "effective_receptive_field", "erf_std", "conv_stack",
           "ACTIVATIONS", "WEIGHT_SCHEMES"]

ACTIVATIONS = ("relu", "linear")
WEIGHT_SCHEMES = ("random", "uniform")


def _data_model(model: Any, in_channels: int | None, hw: tuple[int, int], batch: int) -> tuple[int, torch.device]:
    """``(in_channels, device)`` of a model with data (not meta) whose input fits in memory."""
    check_module(model)
    tensors = [*model.parameters(), *model.buffers()]
    if any(t.device.type == "meta" for t in tensors):
        raise ValueError("model has parameters on the meta device (shapes only, no data); gradients need "
                         "real weights: build it without meta_device() (trace works on meta models)")
    in_channels = infer_in_channels(model) if in_channels is None else check_int(in_channels, "in_channels", minimum=1)
    check_elements(batch * in_channels * hw[0] * hw[1], "the input (n_samples x in_channels x H x W of input_size)")
    return in_channels, tensors[0].device if tensors else torch.device("cpu")


def _centre_unit(output: Any, where: str) -> torch.Tensor:
    """Sum over channels of the centre output unit of each sample, ``(N,)``, of the primary output."""
    if isinstance(output, dict) and isinstance(output.get("out"), torch.Tensor):
        output = output["out"]
    tensors = tensors_in(output)
    if not tensors:
        raise ValueError(f"{where}: the model returned no tensor ({type(output).__name__})")
    out = tensors[0]
    if out.dim() == 4:
        return out[:, :, out.shape[-2] // 2, out.shape[-1] // 2].sum(dim=1)  # (N,)
    return out.reshape(out.shape[0], -1).sum(dim=1)  # (N,)


IDENTITY = {
    F.relu, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_, F.relu6, F.leaky_relu, F.elu,
    F.gelu, F.silu, F.mish, F.hardtanh, F.hardswish, F.hardsigmoid, torch.sigmoid, torch.Tensor.sigmoid,
    torch.tanh, torch.Tensor.tanh, F.batch_norm, F.instance_norm, F.layer_norm, F.group_norm,
    F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout,
}
ADAPTIVE_MAX_POOLS = {F.adaptive_max_pool2d, F.adaptive_max_pool2d_with_indices}


def _average_pool(x: torch.Tensor, args: tuple, kwargs: dict) -> torch.Tensor:
    """Max pooling's window averaged instead (a depthwise all-ones conv when dilated)."""
    kernel, stride, padding, dilation = pool_args(args, kwargs)
    ceil_mode = bool(call_arg(args, kwargs, 5, "ceil_mode", False))
    if dilation == (1, 1):
        return F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode)  # (N, C, h, w)
    extra = []  # right/bottom zeros that give ceil_mode's extra output
    for axis in range(2):
        n = int(x.shape[-2 + axis])
        out_n = conv_output_size(n, kernel[axis], stride[axis], padding[axis], dilation[axis], ceil_mode)
        k_eff = effective_kernel_size(kernel[axis], dilation[axis])
        extra.append(max(0, (out_n - 1) * stride[axis] + k_eff - (n + 2 * padding[axis])))
    x = F.pad(x, (padding[1], padding[1] + extra[1], padding[0], padding[0] + extra[0]))  # (N, C, H', W')
    ones = x.new_full((x.shape[-3], 1, *kernel), 1.0 / (kernel[0] * kernel[1]))  # (C, 1, kh, kw)
    return F.conv2d(x, ones, None, stride, 0, dilation, groups=x.shape[-3])  # (N, C, h, w)


class _LinearPositive(TorchFunctionMode):
    """A forward pass made linear: activations, norms, dropout -> identity; max pool -> average."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func in METADATA:
            return func(*args, **kwargs)
        if func in IDENTITY:
            return args[0] if args else kwargs["input"]
        if func in MAX_POOL:
            out = _average_pool(args[0] if args else kwargs["input"], args, kwargs)
            return (out, None) if call_arg(args, kwargs, 6, "return_indices", False) else out
        if func in ADAPTIVE_MAX_POOLS:
            out = F.adaptive_avg_pool2d(args[0], call_arg(args, kwargs, 1, "output_size", None))
            return (out, None) if call_arg(args, kwargs, 2, "return_indices", False) else out
        return func(*args, **kwargs)


def gradient_receptive_field(
    model: nn.Module, input_size: int | tuple[int, int], *, in_channels: int | None = None,
    return_map: bool = False,
) -> tuple[int, int] | tuple[tuple[int, int], torch.Tensor]:
    """Measure the receptive field of the centre output unit from input gradients.

    The model's ``forward`` runs (``torch.func.functional_call``: the model is not changed) in float64 with
    every weight ``1 / fan_in``, biases 0, activations, norms and dropout the identity and max pooling
    averaged: linear with positive weights, so an input pixel gets a non-zero gradient exactly when some
    path joins it to the unit (channel sum at ``(H // 2, W // 2)``). Works under ``torch.no_grad()``.
    ``model`` needs real (not meta) parameters; ``in_channels`` defaults to the first Conv2d's (else 3).

    Returns:
        ``(rf_h, rf_w)``: the extent of the non-zero gradient (clipped by the borders); with ``return_map``
        also the float64 gradient map ``(H, W)``.

    Example:
        >>> stack = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, dilation=2))
        >>> gradient_receptive_field(stack, 21)
        (7, 7)
    """
    hw = as_size(input_size, "input_size")
    return_map = check_bool(return_map, "return_map")
    in_channels, device = _data_model(model, in_channels, hw, 1)
    with torch.inference_mode(False), torch.enable_grad():
        replaced: dict[str, torch.Tensor] = {}
        for name, value in [*model.named_parameters(remove_duplicate=False),
                            *model.named_buffers(remove_duplicate=False)]:
            if not value.is_floating_point():  # e.g. BatchNorm's num_batches_tracked, bumped in train mode
                replaced[name] = value.clone()
            elif value.dim() >= 2:  # conv / linear weight (C_out, C_in / groups, ...)
                replaced[name] = torch.full(value.shape, 1.0 / value[0].numel(), dtype=torch.float64, device=device)
            else:  # biases 0; scales and buffers 1 (norms are the identity here anyway)
                fill = 0.0 if name.rsplit(".", 1)[-1] == "bias" else 1.0
                replaced[name] = torch.full(value.shape, fill, dtype=torch.float64, device=device)
        x = torch.ones((1, in_channels, *hw), dtype=torch.float64, device=device, requires_grad=True)
        try:
            with _LinearPositive():
                output = torch.func.functional_call(model, replaced, (x,), strict=False)
        except RuntimeError as err:
            raise ValueError(f"gradient_receptive_field: the model failed on an input of shape "
                             f"(1, {in_channels}, {hw[0]}, {hw[1]}) (input_size={input_size!r}): {err}") from err
        (grad,) = torch.autograd.grad(_centre_unit(output, "gradient_receptive_field").sum(), x)
    grad_map = grad[0].abs().sum(dim=0)  # (H, W)
    extent = []
    for axis in range(2):
        hits = (grad_map > 0).any(dim=1 - axis).nonzero().flatten()
        extent.append(int(hits[-1] - hits[0] + 1) if hits.numel() else 0)
    result = (extent[0], extent[1])
    return (result, grad_map.detach()) if return_map else result


def effective_receptive_field(
    model: nn.Module, input_size: int | tuple[int, int], *, n_samples: int = 16, seed: int = 0,
    in_channels: int | None = None,
) -> torch.Tensor:
    """The effective receptive field (ERF) of the centre output unit (Luo et al. 2016, Sec. 2).

    Mean over ``n_samples`` standard-normal inputs (local generator ``seed``) of ``|d unit / d input|``
    summed over channels (``unit`` as in ``gradient_receptive_field``), with the model's weights, in eval
    mode, on a copy.

    Returns:
        Float tensor ``(H, W)`` on the model's device, scaled so that its maximum is 1.
    """
    hw = as_size(input_size, "input_size")
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    in_channels, device = _data_model(model, in_channels, hw, n_samples)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    with torch.inference_mode(False), torch.enable_grad():
        copied = copy.deepcopy(model).eval()
        x = torch.randn((n_samples, in_channels, *hw), generator=generator, dtype=dtype)  # (N, C, H, W)
        x = x.to(device).requires_grad_(True)
        (grad,) = torch.autograd.grad(_centre_unit(copied(x), "effective_receptive_field").sum(), x)
    heat = grad.abs().sum(dim=1).mean(dim=0)  # (H, W)
    peak = heat.max()
    return (heat / peak if peak > 0 else heat).detach()


def erf_std(heatmap: torch.Tensor) -> tuple[float, float]:
    """Spread of a non-negative ERF heatmap ``(H, W)``: ``(std_rows, std_cols)`` of its marginals, in pixels.

    Read as a distribution (Luo et al. 2016, Sec. 2.1: close to a Gaussian, ``±2 std`` holds ~95 %).

    Example:
        >>> erf_std(torch.tensor([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
        (0.5, 0.0)
    """
    check_tensor(heatmap, "heatmap", ndim=2, layout="(H, W)", dtype="real", finite=True)
    if heatmap.device.type == "meta":
        raise ValueError("heatmap is on the meta device (no data)")
    heat = heatmap.detach().double()
    total = heat.sum()
    if (heat < 0).any() or total <= 0:
        raise ValueError("heatmap must be non-negative with a positive sum")
    spread = []
    for axis in range(2):
        marginal = heat.sum(dim=1 - axis) / total  # (H,) or (W,)
        positions = torch.arange(marginal.numel(), dtype=heat.dtype, device=heat.device)
        mean = (marginal * positions).sum()
        spread.append(float(((marginal * (positions - mean) ** 2).sum()).sqrt()))
    return spread[0], spread[1]


def conv_stack(
    dilations: Sequence[int], *, kernel_size: int = 3, strides: Sequence[int] | int = 1, channels: int = 1,
    in_channels: int | None = None, activation: str = "linear", weights: str = "random", seed: int = 0,
) -> nn.Sequential:
    """A toy stack of ``k x k`` convolutions, one per dilation rate, for receptive-field experiments.

    Padding ``dilation * (kernel_size - 1) // 2`` keeps the centre output unit over the input's centre.
    Layers ``conv1, act1, conv2, ...`` (``act`` only for ``"relu"``), no bias, CPU float32.

    Args:
        strides: one stride per layer, or one int for all.
        in_channels: default ``channels``.
        weights: ``"random"`` (PyTorch's default bound, local generator seeded with ``seed``) or
            ``"uniform"`` (every weight ``1 / fan_in``).

    Example:
        >>> [name for name, _ in conv_stack([1, 2], activation="relu").named_children()]
        ['conv1', 'act1', 'conv2', 'act2']
    """
    dilations = check_ints(dilations, "dilations", minimum=1)
    check_choice(activation, "activation", ACTIVATIONS)
    check_choice(weights, "weights", WEIGHT_SCHEMES)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    channels = check_int(channels, "channels", minimum=1)
    previous = channels if in_channels is None else check_int(in_channels, "in_channels", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    steps = stack_receptive_field([kernel_size] * len(dilations), strides, dilations)  # checks the strides
    check_elements(len(dilations) * max(previous, channels) * channels * kernel_size**2, "conv_stack's weights "
                   "(len(dilations) x channels x in_channels x kernel_size^2)")
    generator = torch.Generator().manual_seed(seed)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for i, step in enumerate(steps, start=1):
        conv = nn.Conv2d(previous, channels, kernel_size, stride=step.stride, dilation=step.dilation,
                         padding=step.dilation * (kernel_size - 1) // 2, bias=False)
        with torch.no_grad():
            fan_in = conv.weight[0].numel()
            if weights == "uniform":
                conv.weight.fill_(1.0 / fan_in)
            else:  # the bound of PyTorch's default init: kaiming_uniform_(a=sqrt(5)) -> 1/sqrt(fan_in)
                bound = 1.0 / math.sqrt(fan_in)
                conv.weight.copy_(torch.rand(conv.weight.shape, generator=generator) * 2 * bound - bound)
        layers[f"conv{i}"] = conv
        if activation == "relu":
            layers[f"act{i}"] = nn.ReLU()
        previous = channels
    return nn.Sequential(layers)
