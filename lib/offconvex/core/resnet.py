"""ResNet18 (He et al., CVPR 2016), the network of the post's Pathfinder experiment (2022-07-15, Figure 6).

The standard ImageNet layout — a 7×7 stride-2 stem convolution, batch norm, ReLU and 3×3 stride-2 max
pooling, then four stages of two *basic blocks* (two 3×3 convolutions with batch norm and an identity or
1×1-projection shortcut) of widths 64, 128, 256, 512, global average pooling and a linear head — with the
two changes the paper's code makes for Pathfinder: a stem that reads ``in_channels`` (1, grey images) and a
head with ``num_outputs`` (1 logit for binary cross-entropy). ``width`` scales all stage widths (64 is the
standard network; smaller widths serve fast tests). Initialization follows the usual recipe (He-normal
with fan-out for convolutions, batch-norm scale 1 and shift 0, uniform ``±1/sqrt(fan_in)`` for the head)
but draws from an explicit generator.
"""

import torch
from torch import nn

STAGES = (2, 2, 2, 2)  # basic blocks per stage: ResNet18


class BasicBlock(nn.Module):
    """``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``; the shortcut projects when the shape changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """Stem, stages of basic blocks, global average pooling, linear head: ``(B, C, H, W) -> (B, num_outputs)``."""

    def __init__(self, blocks_per_stage, in_channels: int, num_outputs: int, width: int):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        stages, channels = [], width
        for index, n_blocks in enumerate(blocks_per_stage):
            out = width * 2**index
            stride = 1 if index == 0 else 2
            stages += [BasicBlock(channels if b == 0 else out, out, stride if b == 0 else 1) for b in range(n_blocks)]
            channels = out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(channels, num_outputs)

    def forward(self, x):
        # mean over the spatial dims rather than AdaptiveAvgPool2d: its CUDA backward is not deterministic
        return self.head(self.stages(self.stem(x)).mean(dim=(2, 3)))


def init_parameters(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """He-normal (fan-out) convolutions, unit/zero batch norm, uniform linear layers, drawn from ``generator``."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_out) ** 0.5)
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, nn.Linear):
                bound = module.in_features ** -0.5
                for p in (module.weight, module.bias):
                    p.copy_((2 * torch.rand(p.shape, generator=generator) - 1) * bound)
    return model


def resnet18(generator: torch.Generator, in_channels: int = 1, num_outputs: int = 1, width: int = 64) -> ResNet:
    """A freshly initialized ResNet18 (float32, on the CPU)."""
    for name, value in (("in_channels", in_channels), ("num_outputs", num_outputs), ("width", width)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return init_parameters(ResNet(STAGES, in_channels, num_outputs, width), generator)
