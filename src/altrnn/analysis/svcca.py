"""SVCCA: how alike two representations of the same samples are, blind to any invertible linear map.

Singular vector canonical correlation analysis (Raghu et al., 2017), in two steps:

1. ``svd_directions``, once per representation: centre the (M, N) activity
   (rows: the same samples, time steps x trials, in both representations) and
   keep its leading left singular vectors, enough to explain a set share of
   the variance (0.99 by default) or a fixed number k. This drops the
   low-variance directions, which are mostly noise.
2. ``canonical_correlations`` of the two reduced representations: with
   orthonormal bases U_x and U_y of their column spaces, the canonical
   correlations are the singular values of U_x^T U_y (the cosines of the
   principal angles between the two subspaces).

``svcca`` reports their mean, in [0, 1]: 1 when one reduced representation is
an invertible linear map of the other (in particular identical or rotated
copies), low for unrelated ones.
"""

import numpy as np

__all__ = ["svd_directions", "canonical_correlations", "svcca", "pairwise_svcca"]

RANK_TOL = 1e-10  # singular values below this fraction of the largest are rounding noise


def _representation(name, X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3:  # (T, B, N) states: every time step of every trial is a sample
        X = X.reshape(-1, X.shape[2])
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"{name} must be (M, N) or (T, B, N) with at least 2 samples, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains non-finite values")
    return X


def svd_directions(X, share=0.99, k=None, name="X") -> np.ndarray:
    """(M, k) orthonormal leading left singular vectors of the centred X.

    k=None keeps the fewest directions whose variance reaches `share` of the
    total; a given k keeps exactly k (an error if X has fewer non-negligible
    directions).
    """
    X = _representation(name, X)
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share}")
    U, s, _ = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    if s[0] == 0.0:
        raise ValueError(f"{name} is constant: SVCCA is undefined")
    rank = int(np.sum(s > RANK_TOL * s[0]))
    if k is None:
        explained = np.cumsum(s[:rank] ** 2) / np.sum(s[:rank] ** 2)
        k = min(int(np.searchsorted(explained, share - 1e-12)) + 1, rank)
    elif int(k) != k or not 1 <= k <= rank:
        raise ValueError(f"k must be an integer in [1, {rank}] (the numerical rank of {name}), got {k}")
    return U[:, :int(k)]


def canonical_correlations(U_x, U_y) -> np.ndarray:
    """Canonical correlations (descending, min(k_x, k_y) of them) of two orthonormal (M, k) bases."""
    if U_x.shape[0] != U_y.shape[0]:
        raise ValueError(f"representations must have the same samples (rows), got {U_x.shape[0]} and "
                         f"{U_y.shape[0]}")
    return np.clip(np.linalg.svd(U_x.T @ U_y, compute_uv=False), 0.0, 1.0)


def svcca(X, Y, share=0.99, k=None) -> float:
    """Mean canonical correlation of the SVD-reduced X and Y (rows: the same samples)."""
    return float(np.mean(canonical_correlations(svd_directions(X, share, k, "X"), svd_directions(Y, share, k, "Y"))))


def pairwise_svcca(representations: dict, share=0.99, k=None) -> np.ndarray:
    """Symmetric matrix of svcca between every two representations (dict order), 1 on the diagonal."""
    bases = {name: svd_directions(X, share, k, f"representation {name!r}") for name, X in representations.items()}
    names = list(bases)
    S = np.eye(len(names))
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            S[i, j] = S[j, i] = float(np.mean(canonical_correlations(bases[names[i]], bases[names[j]])))
    return S
