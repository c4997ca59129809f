"""The autoencoder family: an encoder maps each sample to a code, a decoder maps the code back,
and the reconstruction error is what is minimised (the course's linear factor models and
autoencoders chapter).

Variants, by the family's parameters: under-complete (a code narrower than the input),
sparse (an L1 penalty on the code, or the KL divergence of each code unit's mean activation to
a target rate), denoising (the encoder sees a corrupted sample, gaussian, masking or
salt-and-pepper noise, and the target is the clean one). The reconstruction loss is the run's
loss: `mse`, or `binary_cross_entropy` on logits for data in [0, 1]. The two networks are
trained as one graph (encoder, then decoder from the code on) by one optimizer.
May import: stdlib, numpy, torch, pydantic, engine modules below the trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
from pydantic import Field

from engine.core.errors import LocatedError
from engine.core.metrics import MetricInfo
from engine.core.registry import Params
from engine.core.specs import EdgeSpec, NetworkSpec
from engine.core.steps import AutogradStep
from engine.families.base import FAMILIES, Family, check_roles, finite_metrics
from engine.nn.graph import output_node

if TYPE_CHECKING:
    from engine.core.run import Choices, PreparedRun
    from engine.core.specs import RunSpec
    from engine.core.steps import StepStrategy
    from engine.data import DataShape
    from engine.nn.graph import GraphReport

LOSSES = ("mse", "binary_cross_entropy")


class AutoencoderParams(Params):
    sparsity: Literal["none", "l1", "kl"] = Field(
        "none", description="Penalty on the code: 'l1' adds weight·mean Σ|h|; 'kl' adds "
        "weight·Σ KL(rate ‖ mean activation) per code unit (the code must lie in (0, 1), "
        "e.g. after a sigmoid).")
    sparsity_weight: float = Field(1e-3, ge=0, le=100, description="Strength of the penalty.")
    target_rate: float = Field(0.05, gt=0, lt=1, description="KL: each code unit's target "
                               "mean activation.")
    noise: Literal["none", "gaussian", "masking", "salt_pepper"] = Field(
        "none", description="Denoising: corrupt the encoder's input (gaussian: add N(0, "
        "level²); masking: zero a share `level` of the inputs; salt_pepper: set a share "
        "`level` to 0 or 1); the target stays the clean sample.")
    noise_level: float = Field(0.3, ge=0, le=1, description="Standard deviation, or share of "
                               "inputs corrupted.")
    probe_samples: int = Field(16, ge=1, le=64, description="Test samples shown beside their "
                               "reconstructions.")


def chart(name: str, title: str, split: str, **extra: object) -> MetricInfo:
    return MetricInfo(name=name, title=title, split=split, chart="loss",  # type: ignore[arg-type]
                      chart_title="Reconstruction error", **extra)  # type: ignore[arg-type]


SPARSITY = [MetricInfo(name=f"{s}_code_sparsity", title=f"{s.title()} code sparsity (Hoyer)",
                       split=s, lower_is_better=False, chart="sparsity",  # type: ignore[arg-type]
                       chart_title="Code sparsity", range=(0.0, 1.0)) for s in ("train", "test")]
NOISY = chart("test_noisy_error", "Noisy input's own error (test)", "test")


class Autoencoder(Family):
    name = "autoencoder"
    description = ("Learn a code of the data by reconstructing each sample from it: "
                   "under-complete, sparse or denoising.")
    params = AutoencoderParams
    roles = ("encoder", "decoder")
    optimizer_roles = ("model",)
    probes = frozenset({"norms", "histograms", "activations", "weights", "reconstructions",
                        "code"})

    def catalog_metrics(self) -> list[MetricInfo]:
        return [chart("loss", "Objective (batch)", "batch"),
                chart("train_loss", "Train reconstruction", "train"),
                chart("test_loss", "Test reconstruction", "test"), NOISY, *SPARSITY]

    def network(self, spec: RunSpec, errors: list[LocatedError]) -> NetworkSpec | None:
        check_roles(self, spec, errors)
        if set(spec.networks) != set(self.roles):
            return None
        return compose(spec.networks["encoder"], spec.networks["decoder"], errors)

    def check(self, spec: RunSpec, data: DataShape, report: GraphReport | None,
              choices: Choices | None, errors: list[LocatedError]) -> None:
        if spec.training.task != "reconstruction":
            errors.append(LocatedError(None, "training.task", "an autoencoder's task is "
                                       f"'reconstruction', not {spec.training.task!r}"))
        if choices is not None and choices.loss.name not in LOSSES:
            errors.append(LocatedError(None, "training.loss.name", f"reconstruction needs "
                                       f"{' or '.join(LOSSES)}, not {choices.loss.name!r}"))
        if report is None or not report.ok:
            return
        out = next(n for n in report.nodes if n.id == report.output)
        size = int(np.prod(data.input_shape))
        if int(np.prod(out.output_shape or [0])) != size:
            errors.append(LocatedError(out.id, "output", f"the decoder must give back "
                                       f"{size} values per sample (the input "
                                       f"{list(data.input_shape)}), it gives {out.shape_text}"))

    def make_step(self, run: PreparedRun) -> StepStrategy:
        return AutoencoderStep(run)

    def evaluate(self, step: StepStrategy) -> dict[str, float]:
        assert isinstance(step, AutoencoderStep)
        return finite_metrics(step.metrics())


def compose(encoder: NetworkSpec, decoder: NetworkSpec,
            errors: list[LocatedError]) -> NetworkSpec | None:
    """One graph: the encoder, then the decoder with its input node replaced by the code
    (the encoder's output). Node ids must differ between the two."""
    code = output_node(encoder, [])
    inputs = [n for n in decoder.nodes if n.kind == "input"]
    if len(inputs) != 1:
        errors.append(LocatedError(None, "networks.decoder", "the decoder needs one input "
                                   f"node (where the code enters); it has {len(inputs)}"))
        return None
    seen = {n.id for n in encoder.nodes}
    for i, node in enumerate(decoder.nodes):
        if node.id in seen and node is not inputs[0]:
            errors.append(LocatedError(node.id, f"networks.decoder.nodes.{i}.id", "the id is "
                                       "taken by an encoder node; ids are unique across both"))
    if errors or code is None:
        return None
    start = inputs[0].id
    edges = [EdgeSpec(source=code if e.source == start else e.source, target=e.target)
             for e in decoder.edges]
    return NetworkSpec(nodes=[*encoder.nodes, *[n for n in decoder.nodes if n.id != start]],
                       edges=[*encoder.edges, *edges],
                       output=decoder.output or output_node(decoder, []))


def corrupt(x: torch.Tensor, p: AutoencoderParams, gen: torch.Generator) -> torch.Tensor:
    """The encoder's input for a denoising autoencoder (x itself without noise)."""
    if p.noise == "none" or p.noise_level == 0:
        return x
    if p.noise == "gaussian":
        noise = torch.randn(x.shape, generator=gen, device=x.device)
        return x + p.noise_level * noise
    hit = torch.rand(x.shape, generator=gen, device=x.device) < p.noise_level
    if p.noise == "masking":
        return x.masked_fill(hit, 0.0)
    salt = torch.rand(x.shape, generator=gen, device=x.device) < 0.5
    return torch.where(hit, salt.to(x.dtype), x)


def hoyer(code: torch.Tensor) -> float:
    """Mean Hoyer sparsity of the codes (N, U): 0 when every unit is equal, 1 when one unit
    alone is non-zero; scale-free, so a code cannot look sparse by shrinking."""
    u = code.shape[1]
    if u < 2:
        return 0.0
    l1, l2 = code.abs().sum(1), code.norm(dim=1).clamp_min(1e-12)
    return float(((u ** 0.5 - l1 / l2) / (u ** 0.5 - 1)).mean())


class AutoencoderStep(AutogradStep):
    """AutogradStep with the autoencoder's objective: reconstruction of the clean sample from
    the (corrupted) one, plus the code's sparsity penalty. Noise is drawn from a generator
    seeded by the run's seed, so that a run repeats exactly."""

    name = "autoencoder"

    def __init__(self, run: PreparedRun) -> None:
        super().__init__(run)
        self.p: AutoencoderParams = run.family_params
        self.classify = False
        self.code_node = code_of(run)
        seed = run.spec.training.seed
        self.gen = torch.Generator(device=run.device).manual_seed(seed)
        # one fixed corruption per split, so that evaluations are comparable over time
        fixed = torch.Generator(device=run.device).manual_seed(seed + 1)
        self.noisy = {split: corrupt(self.x[split], self.p, fixed) for split in self.x}

    def targets(self, split: str) -> torch.Tensor:
        return self.x[split].reshape(len(self.x[split]), -1)  # (N, F): the clean samples

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(code (N, U), reconstruction (N, F) as the loss sees it: logits for BCE)."""
        outs = self.model.node_outputs(x)
        code = outs[self.code_node].reshape(len(x), -1)
        return code, outs[self.model.output or self.model.order[-1]].reshape(len(x), -1)

    def penalty(self, code: torch.Tensor) -> torch.Tensor | None:
        p = self.p
        if p.sparsity == "l1":
            return p.sparsity_weight * code.abs().sum(1).mean()
        if p.sparsity == "kl":
            rate = code.mean(0).clamp(1e-6, 1 - 1e-6)
            r = p.target_rate
            kl = r * torch.log(r / rate) + (1 - r) * torch.log((1 - r) / (1 - rate))
            return p.sparsity_weight * kl.sum()
        return None

    def objective(self, idx: torch.Tensor) -> tuple[torch.Tensor, None]:
        x = self.x["train"][idx]
        code, recon = self.forward(corrupt(x, self.p, self.gen))
        loss = self.loss_fn(recon, self.y["train"][idx])
        extra = self.penalty(code)
        return (loss if extra is None else loss + extra), None

    @torch.no_grad()
    def metrics(self) -> dict[str, float | None]:
        self.model.eval()
        found: dict[str, float | None] = {}
        for split in ("train", "test"):
            _, recon = self.forward(self.noisy[split])  # denoising: from the corrupted
            found[f"{split}_loss"] = float(self.loss_fn(recon, self.y[split]))
            code, _ = self.forward(self.x[split])
            found[f"{split}_code_sparsity"] = hoyer(code)
        if self.p.noise != "none":
            found["test_noisy_error"] = self.noisy_error()
        return found

    def noisy_error(self) -> float:
        """What doing nothing scores: the loss of the noisy input against the clean one (for
        BCE on logits, the noisy input's logit)."""
        noisy = self.noisy["test"].reshape(len(self.noisy["test"]), -1)
        if self.run.choices.loss.name == "binary_cross_entropy":
            noisy = torch.logit(noisy.clamp(1e-4, 1 - 1e-4))
        return float(self.loss_fn(noisy, self.y["test"]))

    @torch.no_grad()
    def evaluate(self, split: str) -> tuple[float, None]:
        self.model.eval()
        _, recon = self.forward(self.noisy[split])
        return float(self.loss_fn(recon, self.y[split])), None

    @torch.no_grad()
    def codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(codes (N, U), reconstructions (N, F) as data: sigmoid of BCE's logits)."""
        self.model.eval()
        code, recon = self.forward(x)
        if self.run.choices.loss.name == "binary_cross_entropy":
            recon = torch.sigmoid(recon)
        return code, recon


def code_of(run: PreparedRun) -> str:
    """The code node: the encoder's output."""
    return output_node(run.spec.networks["encoder"], []) or run.model.order[0]


FAMILIES.register(Autoencoder())
