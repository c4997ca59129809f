"""Version-1 run specs (a stored run, a page's shared link, the old example) are upgraded on
read to version 2 and train exactly as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from engine import NetworkSpec, RunSpec, Trainer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "v1"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_each_v1_fixture_upgrades_without_loss(name: str) -> None:
    raw = load(name)
    spec = RunSpec.model_validate(raw)
    assert spec.schema_version == 2 and spec.family.name == "supervised"
    assert spec.networks == {"model": NetworkSpec.model_validate(raw["network"])}
    assert spec.training.optimizers["model"].model_dump(exclude_defaults=True) == \
        {k: v for k, v in raw["training"]["optimizer"].items() if v}
    reg = raw["training"].get("regularizer", {"name": "none"})
    assert [r.name for r in spec.training.regularizers] == ([] if reg["name"] == "none"
                                                            else [reg["name"]])
    again = RunSpec.model_validate_json(spec.model_dump_json())  # v2 reads back as itself
    assert again == spec


def losses(spec: RunSpec) -> np.ndarray:
    trainer = Trainer(spec)
    found: list[float] = []
    trainer.subscribe(lambda e: found.extend(e.metrics["loss"]), types={"steps_completed"})
    end = trainer.run()
    assert end.type == "run_completed"
    return np.asarray(found)


def test_a_stored_v1_run_trains_as_its_v2_form_and_learns() -> None:
    raw = load("stored_run_digits_l2.json")
    v2 = RunSpec.model_validate(raw).model_dump(mode="json")
    assert v2["training"]["regularizers"] == [{"name": "l2", "params": {"alpha": 0.0005}}]
    old, new = RunSpec.model_validate(raw), RunSpec.model_validate(v2)
    np.testing.assert_array_equal(losses(old), losses(new))
    trainer = Trainer(new)
    assert trainer.run().metrics["test_accuracy"] >= 0.9  # digits, 32 ReLU, 3 epochs


def test_the_page_link_form_trains() -> None:
    spec = RunSpec.model_validate(load("page_link_circle.json"))
    assert spec.training.regularizers == [] and Trainer(spec).run().metrics["test_accuracy"] > 0.8


def test_an_unknown_version_is_refused() -> None:
    raw = load("xor_example.json") | {"schema_version": 3}
    with pytest.raises(ValidationError, match="schema_version"):
        RunSpec.model_validate(raw)


def test_a_mix_of_both_versions_is_refused_with_the_reason() -> None:
    raw = load("page_link_circle.json")
    raw["training"]["optimizers"] = {"model": {"name": "adam"}}
    with pytest.raises(ValidationError, match="give optimizers .version 2. or optimizer"):
        RunSpec.model_validate(raw)
