"""The image sets for convolutions: the bundled digits file is scikit-learn's set exactly, and
upscales on request; the generated shapes are deterministic, whole, and of the class they
say."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from engine import Choice, load_dataset
from engine.data import digits


def test_the_bundled_digits_are_scikit_learns() -> None:
    pixels, labels = digits._raw()
    reference = load_digits()
    np.testing.assert_array_equal(pixels * 16, reference.data)
    np.testing.assert_array_equal(labels, reference.target)


@pytest.mark.parametrize("size", [16, 28])
def test_digits_upscale_to_the_size_asked_for(size: int) -> None:
    small = load_dataset(Choice(name="digits", params={"shape": "image"}))
    big = load_dataset(Choice(name="digits", params={"shape": "image", "size": size}))
    assert big.x_train.shape == (len(small.x_train), 1, size, size)
    assert big.input_shape == (1, size, size) and big.image_shape == (1, size, size)
    np.testing.assert_array_equal(big.y_train, small.y_train)  # the same split
    # shrunk back, each image is its 8x8 original, give or take the interpolation's blur
    back = F.adaptive_avg_pool2d(torch.from_numpy(big.x_train.copy()), 8).numpy()
    assert np.corrcoef(back.ravel(), small.x_train.ravel())[0, 1] > 0.95
    flat = load_dataset(Choice(name="digits", params={"size": size}))
    assert flat.input_shape == (size * size,) and len(flat.feature_names) == size * size


def shapes(**params: object):  # type: ignore[no-untyped-def]
    return load_dataset(Choice(name="shapes", params={"size": 16, **params}))


def test_shapes_are_deterministic_from_the_seed() -> None:
    a, b, c = shapes(seed=3), shapes(seed=3), shapes(seed=4)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.class_names == ("circle", "square", "triangle") and a.n_classes == 3
    counts = np.bincount(np.concatenate([a.y_train, a.y_test]), minlength=3)
    assert counts.min() > 0.25 * counts.sum()


def test_each_shape_lies_whole_on_the_image_with_its_classs_area() -> None:
    radius = 0.3 * 16  # every shape's circumradius, in pixels
    data = shapes(noise=0.0, n_points=600, min_scale=0.3, max_scale=0.3)
    x, y = data.x_train[:, 0], data.y_train
    border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1)
    assert border.max() <= 0.5  # at most an anti-aliased edge touches the border
    # inscribed in a circle of radius r: circle πr², square 2r², triangle (3√3/4)r²
    expected = np.array([np.pi, 2.0, 3 * np.sqrt(3) / 4]) * radius ** 2
    areas = np.array([x[y == k].sum(axis=(1, 2)).mean() for k in range(3)])
    np.testing.assert_allclose(areas, expected, rtol=0.05)


def test_colour_shapes_have_three_channels() -> None:
    data = shapes(color="rgb", n_points=60)
    assert data.x_train.shape[1:] == (3, 16, 16) and data.input_shape == (3, 16, 16)
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
