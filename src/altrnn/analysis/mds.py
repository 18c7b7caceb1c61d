"""Classical (Torgerson) multidimensional scaling of a distance matrix between networks.

Places the networks as points whose Euclidean distances match the given
distances as closely as a low-dimensional embedding can: the double-centred
matrix of squared distances is a Gram matrix, and its leading eigenvectors,
scaled by the square roots of the eigenvalues, are the coordinates.
"""

import numpy as np

__all__ = ["classical_mds"]


def classical_mds(D, n_components=2, symmetrize=False, atol=1e-8):
    """Coordinates (n, n_components) and all eigenvalues (descending) of the centred Gram matrix.

    D must be square, finite, non-negative, symmetric and zero on the diagonal
    (within atol, relative to the largest entry); an asymmetric D (e.g. a
    directional measure) is replaced by (D + D^T) / 2 only with
    symmetrize=True. Eigenvalues below zero mean D is not Euclidean; their
    directions are never used, and a component with a negative or zero
    eigenvalue (below 1e-12 of the largest magnitude) gets zero coordinates. Each coordinate's sign is fixed so that
    its largest-magnitude entry is positive (deterministic output).
    """
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"D must be a square matrix, got shape {D.shape}")
    if not np.all(np.isfinite(D)):
        raise ValueError("D contains non-finite values")
    n = D.shape[0]
    if int(n_components) != n_components or not 1 <= n_components <= n:
        raise ValueError(f"n_components must be an integer in [1, {n}], got {n_components}")
    tol = atol * max(1.0, float(np.abs(D).max()))
    if np.any(D < -tol):
        raise ValueError("D has negative entries; distances must be >= 0")
    if np.any(np.abs(np.diag(D)) > tol):
        raise ValueError(f"D must have a zero diagonal, got max |diag| = {np.abs(np.diag(D)).max():.3g}")
    asym = float(np.abs(D - D.T).max())
    if asym > tol:
        if not symmetrize:
            raise ValueError(f"D is not symmetric (max |D - D^T| = {asym:.3g}); pass symmetrize=True to use "
                             "(D + D^T) / 2")
    D = (D + D.T) / 2
    J = np.eye(n) - 1.0 / n
    G = -0.5 * J @ (D ** 2) @ J
    evals, evecs = np.linalg.eigh((G + G.T) / 2)
    order = np.argsort(evals)[::-1]
    evals, evecs = evals[order], evecs[:, order]
    k = int(n_components)
    floor = 1e-12 * max(float(np.abs(evals).max()), np.finfo(float).tiny)  # rounding level of the zero eigenvalues
    coords = evecs[:, :k] * np.sqrt(np.where(evals[:k] > floor, evals[:k], 0.0))
    for j in range(k):
        i = int(np.argmax(np.abs(coords[:, j])))
        if coords[i, j] < 0:
            coords[:, j] = -coords[:, j]
    return coords, evals
