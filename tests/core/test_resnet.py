import pytest
import torch
from offconvex.core import resnet


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def resnet18_parameter_count(in_channels, num_outputs, width=64):
    """The standard ResNet18 count from its layer list (convolutions without bias, BN scale + shift)."""
    count = 7 * 7 * in_channels * width + 2 * width  # stem
    channels = width
    for stage in range(4):
        out = width * 2**stage
        count += 9 * channels * out + 2 * out + 9 * out * out + 2 * out  # first block
        if channels != out:
            count += channels * out + 2 * out  # 1×1 projection shortcut
        count += 2 * (9 * out * out + 2 * out)  # second block
        channels = out
    return count + channels * num_outputs + num_outputs


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_count_matches_resnet18():
    assert resnet18_parameter_count(3, 1000) == 11_689_512  # the published ImageNet ResNet18 size
    assert _count(resnet.resnet18(_gen(), in_channels=3, num_outputs=1000)) == 11_689_512
    assert _count(resnet.resnet18(_gen())) == resnet18_parameter_count(1, 1) == 11_170_753
    assert _count(resnet.resnet18(_gen(), width=8)) == resnet18_parameter_count(1, 1, width=8)


def test_output_shape_and_buffers():
    model = resnet.resnet18(_gen(), width=8)
    for size in (32, 150):
        assert model(torch.randn(3, 1, size, size, generator=_gen(1))).shape == (3, 1)
    assert sum(isinstance(m, resnet.BasicBlock) for m in model.modules()) == 8
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 1 + 16 + 3


def test_initialization_is_deterministic_and_follows_the_recipe():
    first, second, other = (resnet.resnet18(_gen(s)) for s in (5, 5, 6))
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values(),
                                                 strict=True))
    assert not torch.equal(first.stem[0].weight, other.stem[0].weight)
    conv = first.stages[-1].conv2.weight  # 512 × 512 × 3 × 3: std sqrt(2 / fan_out) = sqrt(2 / 4608)
    assert conv.std().item() == pytest.approx((2 / 4608) ** 0.5, rel=0.01)
    assert first.head.weight.abs().max() <= 512**-0.5
    assert torch.equal(first.stem[1].weight, torch.ones(64))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="width"):
        resnet.resnet18(_gen(), width=0)
    with pytest.raises(ValueError, match="in_channels"):
        resnet.resnet18(_gen(), in_channels=1.5)
