"""Convolution, pooling and image layers: shapes and parameter counts before any weight
exists, with torch's own modules as the oracle; the output-size arithmetic; every refusal
names the node, the field and the reason; separable conv and sum pooling equal their torch
compositions."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from engine import EdgeSpec, NetworkSpec, NodeSpec, build_model, inspect_graph


def chain(*layers: tuple[str, str, dict]) -> NetworkSpec:
    nodes = [("x", "input", {}), *layers]
    return NetworkSpec(nodes=[NodeSpec(id=i, kind=k, params=p) for i, k, p in nodes],
                       edges=[EdgeSpec(source=a[0], target=b[0])
                              for a, b in zip(nodes, nodes[1:], strict=False)])


Located = tuple[str | None, str | None, str]


def errors(network: NetworkSpec, shape: tuple[int, ...]) -> list[Located]:
    return [(e.node, e.field, str(e)) for e in inspect_graph(network, shape).errors]


# each: a layer, the sample shape it gets; the report's shape must be what torch's module
# gives for a batch of that shape, and its count the module's parameters
CASES = [
    ("conv2d", {"out_channels": 6, "kernel_size": 5}, (1, 28, 28)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1}, (3, 15, 15)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "dilation": 2, "padding": 2}, (2, 9, 7)),
    ("conv2d", {"out_channels": 6, "kernel_size": 4, "padding": "same"}, (2, 9, 9)),
    ("conv2d", {"out_channels": 8, "kernel_size": 3, "groups": 4, "bias": False}, (4, 6, 6)),
    ("conv1d", {"out_channels": 5, "kernel_size": 3, "stride": 2}, (2, 20)),
    ("separable_conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, (8, 10, 10)),
    ("separable_conv2d", {"out_channels": 6, "depth_multiplier": 2, "stride": 2}, (3, 9, 9)),
    ("conv_transpose2d", {"out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1},
     (8, 7, 7)),
    ("conv_transpose2d", {"out_channels": 2, "kernel_size": 3, "stride": 2,
                          "output_padding": 1}, (3, 5, 6)),
    ("max_pool2d", {"kernel_size": 2}, (3, 9, 9)),
    ("max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 8, 8)),
    ("avg_pool2d", {"kernel_size": 3, "stride": 1}, (2, 5, 7)),
    ("sum_pool2d", {"kernel_size": 2}, (1, 8, 8)),
    ("adaptive_avg_pool2d", {"output_size": 3}, (4, 10, 7)),
    ("global_avg_pool2d", {}, (5, 4, 4)),
    ("upsample", {"scale_factor": 3}, (2, 4, 5)),
    ("upsample", {"scale_factor": 2, "mode": "bilinear"}, (1, 3, 3)),
    ("batch_norm2d", {}, (6, 4, 4)),
    ("dropout2d", {"p": 0.3}, (6, 4, 4)),
    ("reshape", {"shape": [4, -1]}, (2, 8)),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize(("kind", "params", "shape"), CASES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_reported_shape_and_count_are_torchs(kind: str, params: dict,
                                             shape: tuple[int, ...]) -> None:
    model, report = build_model(chain(("l", kind, params)), shape)
    node = report.nodes[1]
    out = model(torch.randn(2, *shape))
    assert tuple(out.shape[1:]) == tuple(node.output_shape or ())
    assert node.params == sum(p.numel() for p in model.layers["l"].parameters())


def test_conv_arithmetic_is_filled_in_with_the_layers_numbers() -> None:
    report = inspect_graph(chain(("c", "conv2d", {"out_channels": 4, "kernel_size": 3,
                                                  "stride": 2, "padding": 1})), (1, 28, 27))
    assert report.nodes[1].shape_text == "(N, 4, 14, 14)"
    assert report.nodes[1].arithmetic == ("H: ⌊(28 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = 14; "
                                          "W: ⌊(27 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = 14")
    same = inspect_graph(chain(("c", "conv2d", {"kernel_size": 5, "padding": "same"})), (1, 6, 6))
    assert same.nodes[1].arithmetic.startswith("H: 'same' pads 1·(5−1) = 4 in all, so 6 stays 6")
    pool = inspect_graph(chain(("p", "max_pool2d", {"kernel_size": 2})), (3, 9, 9))
    assert pool.nodes[1].arithmetic.startswith("H: ⌊(9 + 2·0 − 1·(2−1) − 1)/2⌋ + 1 = 4")
    assert inspect_graph(chain(("d", "linear", {})), (2,)).nodes[1].arithmetic is None


def test_separable_conv_reports_its_saving_against_a_plain_conv() -> None:
    report = inspect_graph(chain(("s", "separable_conv2d", {"out_channels": 32})), (16, 8, 8))
    text = report.nodes[1].arithmetic
    # 3²·16 + 16·32 = 656 against 3²·16·32 = 4,608
    assert "weights 3²·16 + 16·32 = 656 against a plain conv's 3²·16·32 = 4,608 (7.0×" in text
    assert report.nodes[1].params == 656 + 32


def test_a_kernel_larger_than_the_padded_input_is_refused_on_its_node() -> None:
    network = chain(("conv1", "conv2d", {"kernel_size": 3}),
                    ("conv2", "conv2d", {"kernel_size": 3}),
                    ("conv3", "conv2d", {"kernel_size": 5}))
    assert errors(network, (1, 7, 7)) == [
        ("conv3", "kernel_size",
         'node "conv3": kernel 5 is larger than the padded input 3×3')]
    dilated = chain(("c", "conv2d", {"kernel_size": 3, "dilation": 3}))
    assert errors(dilated, (1, 6, 6))[0][2] == (
        'node "c": kernel 3 at dilation 3 (reach 7) is larger than the padded input 6×6')


def test_a_dense_layer_on_feature_maps_says_to_flatten() -> None:
    network = chain(("conv1", "conv2d", {"out_channels": 16, "kernel_size": 5}),
                    ("dense1", "linear", {"out_features": 10}))
    assert errors(network, (1, 8, 8)) == [
        ("dense1", None, 'node "dense1": linear expects input (N, features); it gets '
         '(N, 16, 4, 4): add a flatten')]


def test_a_conv_on_flat_features_says_what_it_needs() -> None:
    found = errors(chain(("c", "conv2d", {})), (64,))
    assert found == [("c", None, 'node "c": conv2d expects input (N, C, H, W); it gets (N, 64): '
                      'use image-shaped data or a reshape')]


@pytest.mark.parametrize(("kind", "params", "shape", "field", "reason"), [
    ("conv2d", {"groups": 3, "out_channels": 8}, (3, 5, 5), "groups",
     "groups 3 must divide both the 3 input channels and the 8 output channels"),
    ("conv2d", {"in_channels": 2}, (3, 5, 5), "in_channels",
     "in_channels is 2 but the incoming tensor has 3 channels"),
    ("conv2d", {"padding": "same", "stride": 2}, (1, 5, 5), "padding",
     "padding 'same' needs stride 1; this layer has stride 2 (give padding as a number)"),
    ("max_pool2d", {"kernel_size": 2, "padding": 2}, (1, 5, 5), "padding",
     "padding 2 is more than half the window 2: a window could hold only padding"),
    ("adaptive_avg_pool2d", {"output_size": 6}, (1, 5, 5), "output_size",
     "output_size 6 is larger than the input 5×5: windows would be empty"),
    ("conv_transpose2d", {"stride": 2, "output_padding": 2}, (1, 3, 3), "output_padding",
     "output_padding 2 must be less than the stride (2) or the dilation (1)"),
    ("conv_transpose2d", {"kernel_size": 1, "stride": 1, "padding": 2}, (1, 3, 3),
     "padding", "padding 2 crops the whole output (-1×-1)"),
    ("reshape", {"shape": [3, -1]}, (8,), "shape",
     "cannot reshape (N, 8) (8 numbers) to [3, -1]"),
    ("reshape", {"shape": [-1, -1]}, (8,), "shape",
     "a shape is whole numbers of at least 1, with at most one -1; got [-1, -1]"),
    ("batch_norm2d", {}, (8,), None, "batch_norm2d expects input (N, C, H, W); it gets (N, 8)"),
])
def test_refusals_name_the_node_the_field_and_the_reason(kind: str, params: dict, shape: tuple,
                                                         field: str | None, reason: str) -> None:
    assert errors(chain(("n", kind, params)), shape) == [("n", field, f'node "n": {reason}')]


def test_a_padding_out_of_range_is_refused_with_the_field() -> None:
    found = errors(chain(("c", "conv2d", {"padding": 99})), (1, 5, 5))
    assert found[0][:2] == ("c", "params.padding") and "0 to 64, or 'same'" in found[0][2]
    node, field, message = errors(chain(("c", "conv2d", {"padding": "valid"})), (1, 5, 5))[0]
    assert node == "c" and field.startswith("params.padding") and "'same'" in message, message


def test_separable_conv_equals_a_depthwise_then_pointwise_conv() -> None:
    torch.manual_seed(0)
    model, _ = build_model(chain(("s", "separable_conv2d", {
        "out_channels": 5, "kernel_size": 3, "padding": 1, "depth_multiplier": 2})), (3, 6, 6))
    layer = model.layers["s"]
    x = torch.randn(4, 3, 6, 6)
    depthwise = F.conv2d(x, layer.depthwise.weight, padding=1, groups=3)
    expected = F.conv2d(depthwise, layer.pointwise.weight, layer.pointwise.bias)
    torch.testing.assert_close(model(x), expected)
    assert layer.depthwise.weight.shape == (6, 1, 3, 3)  # one filter per channel, twice


def test_sum_pooling_equals_the_sum_over_each_window() -> None:
    model, _ = build_model(chain(("p", "sum_pool2d", {"kernel_size": 3, "stride": 2,
                                                      "padding": 1})), (2, 7, 7))
    x = torch.randn(3, 2, 7, 7)
    # torch's oracle: every window unfolded (zero padding) and summed
    windows = F.unfold(x, kernel_size=3, stride=2, padding=1).view(3, 2, 9, -1)
    expected = windows.sum(dim=2).view(3, 2, 4, 4)
    torch.testing.assert_close(model(x), expected)
    torch.testing.assert_close(F.lp_pool2d(x.exp(), 1, 3, 2), build_model(chain(
        ("p", "sum_pool2d", {"kernel_size": 3, "stride": 2})), (2, 7, 7))[0](x.exp()))


def test_a_small_cnn_builds_and_runs_end_to_end() -> None:
    network = chain(("conv1", "conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
                    ("act1", "relu", {}), ("pool1", "max_pool2d", {"kernel_size": 2}),
                    ("conv2", "separable_conv2d", {"out_channels": 16, "padding": 1}),
                    ("act2", "relu", {}), ("gap", "global_avg_pool2d", {}),
                    ("out", "linear", {"out_features": 10}))
    model, report = build_model(network, (1, 8, 8))
    assert [n.shape_text for n in report.nodes] == [
        "(N, 1, 8, 8)", "(N, 8, 8, 8)", "(N, 8, 8, 8)", "(N, 8, 4, 4)", "(N, 16, 4, 4)",
        "(N, 16, 4, 4)", "(N, 16)", "(N, 10)"]
    assert model(torch.randn(5, 1, 8, 8)).shape == (5, 10)
    assert report.total_params == sum(p.numel() for p in model.parameters())
