"""The data-set registry: every set loads, is deterministic, splits and transforms as documented."""

from __future__ import annotations

import json
from typing import get_args

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from engine.core.errors import SpecError
from engine.core.specs import Choice
from engine.data import DATASETS, FEATURES, Dataset, DatasetEntry, load_dataset
from engine.data.base import PlaneParams, fitted_extent, grid_points
from engine.data.features import FeatureName

NAMES = DATASETS.names()
PLANE = [e.name for e in DATASETS if e.plane]
CLASSIFIERS = [e.name for e in DATASETS if e.task == "classification"]
EXPECTED = {
    "circle", "xor", "gaussian", "spiral", "two_moons", "checkerboard",
    "plane", "gaussian_bumps", "digits",
}


def load(name: str, **params: object) -> Dataset:
    return load_dataset(Choice(name=name, params=params))


def fields(exc: pytest.ExceptionInfo[SpecError]) -> list[str | None]:
    return [e.field for e in exc.value.errors]


def test_all_documented_sets_are_registered() -> None:
    assert EXPECTED <= set(NAMES)
    assert all(isinstance(e, DatasetEntry) for e in DATASETS)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_load_with_documented_shapes_and_dtypes(name: str) -> None:
    d = load(name)
    assert d.name == name
    assert d.task in ("classification", "regression")
    n_features = len(d.feature_names)
    # flat features (N, F), or images (N, C, H, W) whose C·H·W pixels are the features
    shape = (n_features,) if d.kind != "image" else d.image_shape
    for x, y in ((d.x_train, d.y_train), (d.x_test, d.y_test)):
        assert x.dtype == np.float32 and x.shape[1:] == shape
        assert y.shape == (x.shape[0],)
        assert np.isfinite(x).all()
    assert d.input_shape == shape and np.prod(shape) == n_features
    if d.task == "classification":
        assert d.y_train.dtype == np.int64 and d.y_test.dtype == np.int64
        assert d.n_classes is not None
        every = set(range(d.n_classes))
        assert set(d.y_train.tolist()) == every and set(d.y_test.tolist()) == every
    else:
        assert d.y_train.dtype == np.float32 and d.n_classes is None
    assert json.loads(json.dumps(d.summary())) == d.summary()


@pytest.mark.parametrize("name", PLANE)
def test_plane_sets_keep_raw_points_in_the_plane(name: str) -> None:
    d = load(name, n_points=400)
    assert d.points_train is not None and d.points_test is not None
    assert d.points_train.shape == (len(d.y_train), 2) and d.points_train.dtype == np.float32
    assert len(d.y_train) + len(d.y_test) == 400
    assert d.extent == fitted_extent(np.concatenate([d.points_train, d.points_test]))
    assert d.feature_names == ("x1", "x2")
    np.testing.assert_array_equal(d.x_train, d.points_train)
    x0, x1, y0, y1 = d.extent
    for pts in (d.points_train, d.points_test):
        assert (pts[:, 0] > x0).all() and (pts[:, 0] < x1).all()
        assert (pts[:, 1] > y0).all() and (pts[:, 1] < y1).all()


@pytest.mark.parametrize("name", [n for n in CLASSIFIERS if n in PLANE])
def test_classes_are_balanced(name: str) -> None:
    d = load(name, n_points=1001)
    counts = np.bincount(np.concatenate([d.y_train, d.y_test]))
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_arrays_and_other_seed_other_arrays(name: str) -> None:
    a, b, c = load(name, seed=3), load(name, seed=3), load(name, seed=4)
    for attr in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.9])
def test_train_fraction_is_respected(name: str, fraction: float) -> None:
    d = load(name, train_fraction=fraction)
    n = len(d.y_train) + len(d.y_test)
    assert len(d.y_train) == round(fraction * n)


def test_split_is_stratified() -> None:
    d = load("gaussian", n_classes=5, n_points=1000, train_fraction=0.3)
    np.testing.assert_array_equal(np.bincount(d.y_train), [60] * 5)


@pytest.mark.parametrize("feature", list(FEATURES))
def test_each_feature_transforms_the_raw_points(feature: str) -> None:
    d = load("spiral", features=[feature], n_points=200)
    assert d.feature_names == (feature,)
    x1, x2 = d.points_train[:, 0], d.points_train[:, 1]
    expected = {
        "x1": x1, "x2": x2, "x1_sq": x1**2, "x2_sq": x2**2, "x1_x2": x1 * x2,
        "sin_x1": np.sin(x1), "sin_x2": np.sin(x2),
    }[feature]
    np.testing.assert_allclose(d.x_train[:, 0], expected, rtol=1e-6, atol=1e-6)


def test_features_are_stacked_in_the_given_order() -> None:
    d = load("xor", features=["x1_x2", "x1", "sin_x2"])
    p = d.points_test
    np.testing.assert_allclose(d.x_test, np.stack([p[:, 0] * p[:, 1], p[:, 0], np.sin(p[:, 1])], 1),
                               rtol=1e-6)
    assert d.input_shape == (3,)


def test_feature_names_match_the_catalog_literal() -> None:
    assert tuple(FEATURES) == get_args(FeatureName)
    assert all(isinstance(label, str) and callable(fn) for label, fn in FEATURES.values())


def test_grid_is_in_image_order() -> None:
    d = load("circle", features=["x1", "x2", "x1_sq"])
    r = 8
    g = d.grid(r)
    assert g is not None and g.shape == (r * r, 3) and g.dtype == np.float32
    cells = g.reshape(r, r, 3)
    assert d.extent == (-5.5, 5.5, -5.5, 5.5)  # points within radius 5, and a margin
    step = 11.0 / r
    assert cells[0, 0, 0] == pytest.approx(-5.5 + step / 2)  # first column near x_min
    assert cells[0, 0, 1] == pytest.approx(5.5 - step / 2)  # first row at the top, near y_max
    assert cells[-1, -1, 0] == pytest.approx(5.5 - step / 2)
    assert cells[-1, -1, 1] == pytest.approx(-5.5 + step / 2)
    assert np.all(np.diff(cells[..., 0], axis=1) > 0)  # x grows along a row
    assert np.all(np.diff(cells[..., 1], axis=0) < 0)  # y falls down a column
    np.testing.assert_allclose(cells[..., 2], cells[..., 0] ** 2, rtol=1e-6)


def test_grid_points_match_dataset_grid_for_raw_features() -> None:
    d = load("xor")
    assert d.extent is not None
    np.testing.assert_array_equal(d.grid(5), grid_points(d.extent, 5))


def test_digits_has_no_plane_or_grid() -> None:
    d = load("digits")
    assert d.grid(16) is None
    assert d.points_train is None and d.points_test is None and d.extent is None


def test_digits_are_64_pixels_in_unit_range_with_10_classes() -> None:
    d = load("digits")
    assert d.input_shape == (64,) and d.n_classes == 10
    assert d.feature_names == tuple(f"px{i}" for i in range(64))
    assert len(d.y_train) + len(d.y_test) == 1797
    both = np.concatenate([d.x_train, d.x_test])
    assert both.min() == 0.0 and both.max() == 1.0
    capped = load("digits", n_points=300)
    assert len(capped.y_train) + len(capped.y_test) == 300
    assert set(capped.y_test.tolist()) == set(range(10))


def test_clean_circle_is_linearly_separable_in_squares() -> None:
    d = load("circle", features=["x1_sq", "x2_sq"], noise=0.0)
    model = LogisticRegression(C=1e4, max_iter=5000).fit(d.x_train, d.y_train)
    assert model.score(d.x_train, d.y_train) == 1.0
    assert model.score(d.x_test, d.y_test) == 1.0


def test_noise_moves_points() -> None:
    clean, noisy = load("circle", noise=0.0), load("circle", noise=0.3)
    radius = np.linalg.norm(clean.points_train, axis=1)
    assert radius.max() <= 5.0 + 1e-5
    assert np.linalg.norm(noisy.points_train, axis=1).max() > 5.0


def test_regression_targets_are_about_unit_range() -> None:
    for name in ("plane", "gaussian_bumps"):
        y = load(name, n_points=5000).y_train
        assert np.abs(y).max() <= 1.05 and np.abs(y).max() > 0.5
    noisy = load("plane", noise=0.5, n_points=5000).y_train
    assert np.abs(noisy).max() > 1.2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"noise": 2.0}, "data.params.noise"),
        ({"noise": -0.1}, "data.params.noise"),
        ({"n_points": 5}, "data.params.n_points"),
        ({"train_fraction": 0.95}, "data.params.train_fraction"),
        ({"seed": -1}, "data.params.seed"),
        ({"features": []}, "data.params.features"),
        ({"features": ["x1", "x1"]}, "data.params.features"),
        ({"features": ["x3"]}, "data.params.features.0"),
        ({"bogus": 1}, "data.params.bogus"),
    ],
)
def test_bad_params_name_their_field(params: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError) as exc:
        load_dataset(Choice(name="circle", params=params))
    assert field in fields(exc)
    assert all(e.node is None for e in exc.value.errors)


def test_set_specific_params_are_checked() -> None:
    with pytest.raises(SpecError) as exc:
        load("gaussian", n_classes=9)
    assert fields(exc) == ["data.params.n_classes"]
    with pytest.raises(SpecError) as exc:
        load("checkerboard", cells=1)
    assert fields(exc) == ["data.params.cells"]
    with pytest.raises(SpecError) as exc:
        load("digits", noise=0.1)
    assert fields(exc) == ["data.params.noise"]


def test_unknown_set_lists_known_names() -> None:
    with pytest.raises(SpecError) as exc:
        load_dataset(Choice(name="mnist_huge"))
    assert fields(exc) == ["data.name"]
    message = exc.value.errors[0].message
    assert "mnist_huge" in message
    assert all(name in message for name in EXPECTED)


def test_gaussian_and_checkerboard_options_take_effect() -> None:
    d = load("gaussian", n_classes=6)
    assert d.n_classes == 6 and set(d.y_train.tolist()) == set(range(6))
    board = load("checkerboard", cells=3, n_points=2000)
    pts, y = board.points_train, board.y_train
    col = np.floor((pts[:, 0] + 5) / (10 / 3)).astype(int)
    row = np.floor((pts[:, 1] + 5) / (10 / 3)).astype(int)
    np.testing.assert_array_equal((row + col) % 2, y)


def test_catalog_has_schemas_with_defaults_and_descriptions() -> None:
    catalog = DATASETS.catalog()
    assert {item["name"] for item in catalog} == set(NAMES)
    for item in catalog:
        assert item["description"]
        assert item["task"] in ("classification", "regression")
        assert isinstance(item["plane"], bool)
        props = item["params"]["properties"]
        assert props
        for name, prop in props.items():
            assert prop.get("description"), f"{item['name']}.{name} lacks a description"
            assert "default" in prop, f"{item['name']}.{name} lacks a default"
        json.dumps(item)
    circle = next(item for item in catalog if item["name"] == "circle")["params"]["properties"]
    assert circle["noise"]["minimum"] == 0 and circle["noise"]["maximum"] == 1
    assert circle["features"]["default"] == ["x1", "x2"]
    assert circle["features"]["uniqueItems"] is True


def test_plane_params_defaults() -> None:
    p = PlaneParams()
    assert (p.n_points, p.noise, p.train_fraction, p.seed) == (500, 0.0, 0.5, 0)
    assert p.features == ["x1", "x2"]
