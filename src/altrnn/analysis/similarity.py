"""Similarity between the rates of two networks on the same trials.

linear_predictability is directional and held-out (how much of Y a ridge fit on
X explains on unseen rows); linear_cka is symmetric. Both work with N x N
products only, so M (time steps x trials) can be large.
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ..insd.penalty import effective_rho

__all__ = ["linear_predictability", "linear_cka"]


def _matrix(name, A) -> np.ndarray:
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D (M, N), got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains non-finite values")
    return A


def _same_rows(**arrays):
    rows = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(rows.values())) != 1:
        raise ValueError(f"arrays must have the same number of rows, got {rows}")


def linear_predictability(X_train, Y_train, X_test, Y_test, rho=1e-3, rho_mode="relative") -> float:
    """Held-out r2 of the ridge regression of Y on X (intercept via the train means), pooled over Y's columns."""
    X_train, Y_train = _matrix("X_train", X_train), _matrix("Y_train", Y_train)
    X_test, Y_test = _matrix("X_test", X_test), _matrix("Y_test", Y_test)
    _same_rows(X_train=X_train, Y_train=Y_train)
    _same_rows(X_test=X_test, Y_test=Y_test)
    if X_train.shape[1] != X_test.shape[1] or Y_train.shape[1] != Y_test.shape[1]:
        raise ValueError("train and test arrays must have the same number of columns")

    x_mean, y_mean = X_train.mean(axis=0), Y_train.mean(axis=0)
    Xc, Yc = X_train - x_mean, Y_train - y_mean
    A = Xc.T @ Xc
    A[np.diag_indices_from(A)] += effective_rho(Xc, rho, rho_mode)
    try:
        coef = cho_solve(cho_factor(A), Xc.T @ Yc)
    except LinAlgError as err:
        raise ValueError("X_train^T X_train + rho I is not positive definite; use rho > 0") from err

    Y_true = Y_test - y_mean
    denom = float(np.vdot(Y_true, Y_true))
    if denom == 0.0:
        raise ValueError("Y_test equals the train mean everywhere: r2 is undefined")
    resid = Y_true - (X_test - x_mean) @ coef
    return 1.0 - float(np.vdot(resid, resid)) / denom


def linear_cka(X, Y) -> float:
    """Linear CKA ||X^T Y||^2 / (||X^T X|| ||Y^T Y||) of column-centred X and Y (Kornblith et al. 2019)."""
    X, Y = _matrix("X", X), _matrix("Y", Y)
    _same_rows(X=X, Y=Y)
    X = X - X.mean(axis=0)
    Y = Y - Y.mean(axis=0)
    xx = np.linalg.norm(X.T @ X)
    yy = np.linalg.norm(Y.T @ Y)
    if xx == 0.0 or yy == 0.0:
        raise ValueError("linear CKA is undefined for a constant X or Y")
    return float(np.linalg.norm(X.T @ Y) ** 2 / (xx * yy))
