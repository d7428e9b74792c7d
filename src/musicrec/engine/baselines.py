"""Rating-prediction baselines the explicit model must beat: global mean and damped biases.

Damped biases (Koren 2010, section 2.1):  b_i = sum_u (r_ui - mu) / (n_i + d_i),
b_u = sum_i (r_ui - mu - b_i) / (n_u + d_u);  prediction mu + b_u + b_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicrec.engine.data import IdMap


@dataclass(frozen=True)
class DampedBias:
    users: IdMap
    items: IdMap
    mu: float
    user_bias: np.ndarray
    item_bias: np.ndarray

    @classmethod
    def fit(
        cls,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        ratings: np.ndarray,
        *,
        item_damping: float = 25.0,
        user_damping: float = 10.0,
    ) -> DampedBias:
        users, items = IdMap.of(user_ids), IdMap.of(item_ids)
        u, i = users.indices(user_ids), items.indices(item_ids)
        r = np.asarray(ratings, dtype=np.float64)
        mu = float(r.mean())
        item_bias = np.bincount(i, r - mu, len(items)) / (
            np.bincount(i, minlength=len(items)) + item_damping
        )
        residual = r - mu - item_bias[i]
        user_bias = np.bincount(u, residual, len(users)) / (
            np.bincount(u, minlength=len(users)) + user_damping
        )
        return cls(users, items, mu, user_bias, item_bias)

    def predict(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        u, i = self.users.indices(user_ids), self.items.indices(item_ids)
        out = np.full(u.shape, self.mu)
        out[u >= 0] += self.user_bias[u[u >= 0]]
        out[i >= 0] += self.item_bias[i[i >= 0]]
        return out
