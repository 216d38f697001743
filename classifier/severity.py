"""Final severity: a small calibrated model that combines what the text says with spread.

Inputs (standardised with the training means/deviations):
- the text-severity head's four probabilities (levels 1–4: harm, deaths, minors, sexual
  violence, officials … as the encoder reads them);
- spread: log(1+reposts), log(1+comments), log(1+likes), log(1+views), log(1+followers),
  verified, views missing, platform one-hot (platforms count differently, LABELS.md), the
  rubric's spread level on the platform's own scale, and the text cues of media level, 热搜,
  deaths, many victims and accountability (classifier.features).
A model stores the names of the features it was fitted on and reads only those, so a model
fitted before a feature was added still loads and predicts the same.
Model: multinomial logistic regression over levels 1–4 with an L2 penalty, fitted by L-BFGS on
the training split's crisis posts; then one temperature is fitted on the dev split (minimum
negative log-likelihood) so the probabilities are calibrated. ``none`` is always 0 (not here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from classifier.features import SPREAD_NAMES

TEXT_NAMES = ["text_p1", "text_p2", "text_p3", "text_p4"]


@dataclass
class SeverityModel:
    weight: np.ndarray  # [features, 4]
    bias: np.ndarray  # [4]
    mean: np.ndarray
    std: np.ndarray
    temperature: float = 1.0
    features: list[str] | None = None  # the inputs it was fitted on (None: all of today's)

    def _columns(self, x: np.ndarray) -> np.ndarray:
        names = TEXT_NAMES + SPREAD_NAMES
        if self.features is None or self.features == names or x.shape[1] != len(names):
            return x
        return x[:, [names.index(n) for n in self.features]]

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((self._columns(x) - self.mean) / self.std) @ self.weight + self.bias

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = self.logits(x) / self.temperature
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Levels 1–4."""
        return self.proba(x).argmax(1) + 1

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({
            "features": self.features or TEXT_NAMES + SPREAD_NAMES, "weight": self.weight.tolist(),
            "bias": self.bias.tolist(), "mean": self.mean.tolist(), "std": self.std.tolist(),
            "temperature": self.temperature,
        }, indent=1))

    @classmethod
    def load(cls, path: Path) -> SeverityModel:
        d = json.loads(path.read_text())
        return cls(np.asarray(d["weight"], np.float32), np.asarray(d["bias"], np.float32),
                   np.asarray(d["mean"], np.float32), np.asarray(d["std"], np.float32),
                   float(d["temperature"]), list(d["features"]) if d.get("features") else None)


def severity_inputs(text_proba: np.ndarray, spread: np.ndarray) -> np.ndarray:
    return np.concatenate([text_proba, spread], axis=1).astype(np.float32)


def fit_severity(x: np.ndarray, levels: np.ndarray, l2: float = 1e-2) -> SeverityModel:
    """levels: 1–4."""
    mean = x.mean(0)
    std = x.std(0) + 1e-3
    xt = torch.tensor((x - mean) / std, dtype=torch.float64)
    y = torch.tensor(levels - 1, dtype=torch.long)
    w = torch.zeros(x.shape[1], 4, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xt @ w + b, y) + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    if len(y):
        opt.step(closure)
    return SeverityModel(w.detach().numpy().astype(np.float32), b.detach().numpy().astype(np.float32),
                         mean.astype(np.float32), std.astype(np.float32), features=TEXT_NAMES + SPREAD_NAMES)


def calibrate_temperature(model: SeverityModel, x: np.ndarray, levels: np.ndarray) -> float:
    if len(levels) == 0:
        return 1.0
    z = torch.tensor(model.logits(x), dtype=torch.float64)
    y = torch.tensor(levels - 1, dtype=torch.long)
    best = min((torch.nn.functional.cross_entropy(z / t, y).item(), t) for t in np.linspace(0.3, 5.0, 95))
    model.temperature = float(best[1])
    return model.temperature


def expected_calibration_error(proba: np.ndarray, levels: np.ndarray, bins: int = 10) -> float:
    if len(levels) == 0:
        return 0.0
    conf = proba.max(1)
    correct = (proba.argmax(1) + 1) == levels
    ece = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        sel = (conf > lo) & (conf <= lo + 1 / bins)
        if sel.any():
            ece += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
    return float(ece)
