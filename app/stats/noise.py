"""Differential privacy for releases: discrete Laplace noise from OpenDP.

Imported only when an epsilon is configured, so OpenDP stays an optional extra. Each
person appears at most once per period in a table (``sources``), so adding or removing
one person changes a table's cells by at most ``periods * per_period`` in L1 norm: that
is the sensitivity the noise scale is computed from.
"""

from dataclasses import dataclass
from typing import Any

ALPHA = 0.05  # 95% accuracy ranges


@dataclass(frozen=True)
class Noise:
    epsilon: float      # spent on this table
    sensitivity: int
    scale: float
    accuracy_95: float  # |noise| is below this with 95% probability, per cell

    def describe(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "sensitivity": self.sensitivity,
                "mechanism": "discrete Laplace (OpenDP)", "scale": round(self.scale, 3),
                "accuracy_95": round(self.accuracy_95, 1)}


def _prelude() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def plan(epsilon: float, sensitivity: int) -> Noise:
    dp = _prelude()
    scale = sensitivity / epsilon
    return Noise(epsilon, sensitivity, scale,
                 dp.discrete_laplacian_scale_to_accuracy(scale, ALPHA))


def noisy(values: list[int], noise: Noise) -> list[int]:
    """Each value plus independent discrete Laplace noise, then clamped at zero (a
    post-processing step, which costs no privacy)."""
    if not values:
        return []
    dp = _prelude()
    space = (dp.vector_domain(dp.atom_domain(T=int), size=len(values)), dp.l1_distance(T=int))
    measurement = dp.m.make_laplace(*space, scale=noise.scale)
    return [max(0, v) for v in measurement(values)]
