"""INSD penalty: ridge linear predictability of earlier networks from the new one.

A new network is penalised when its readout-null-space rates X (M, Nx) linearly
predict an earlier network's null-space rates Y (M, Ny):

    S(X, Y) = ||X Z||_F^2 / ||Y||_F^2,   Z = A^{-1} C,  A = X^T X + rho I,  C = X^T Y.

The direction (new -> earlier) matters: padding X with extra units cannot hide
that X still contains Y. Only Nx x Nx systems are solved (Cholesky of A),
never the M x M hat matrix.

Gradient. With E = X Z, W = A^{-1} Z and V = A^{-1} X^T E = Z - rho W,
dE = dX Z + X A^{-1} (dX^T (Y - E) - X^T dX Z), so for fixed rho
    d||E||^2 / dX = 2 [(Y - E) V^T + rho X W Z^T],     d||E||^2 / drho = -2 <V, Z>.
In "relative" mode rho = c ||X||_F^2 / Nx, adding (d||E||^2/drho) * 2 c X / Nx.
Through the network: X = centre(R) P, so dL/dR = centre(G P) for G = dL/dX;
with B = (W_out W_out^T)^{-1} W_out, dP = -(B^T dW P + P dW^T B), hence
dL/dW_out = -B (H + H^T) P where H = centre(R)^T G.

Cost. ||E||^2 = <Z, X^T X Z> and dS/dX = Y U^T + X K with small U, K, so the
penalty needs centre(R)^T centre(R) and one Cholesky per call, plus two
M x N x N products per earlier network (centre(R)^T Y_i and Y_i U_i^T P).
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ..model.kernels import matmul  # the large (M-row) products use the trainer's one BLAS

RHO_MODES = ("absolute", "relative")

__all__ = [
    "RHO_MODES",
    "effective_rho",
    "null_space_projector",
    "null_space_rates",
    "ridge_predictability",
    "ridge_predictability_grad",
    "INSDPenalty",
]


def _check_rho(rho, rho_mode):
    if rho_mode not in RHO_MODES:
        raise ValueError(f"unknown rho_mode {rho_mode!r}; allowed: {', '.join(RHO_MODES)}")
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite non-negative number, got {rho}")


def effective_rho(X, rho=1e-3, rho_mode="relative") -> float:
    """Ridge strength for predictor X: rho itself, or rho * mean eigenvalue of X^T X ("relative")."""
    _check_rho(rho, rho_mode)
    if rho_mode == "absolute":
        return float(rho)
    return float(rho) * float(np.vdot(X, X)) / X.shape[1]


def _projector_parts(W_out):
    """(P, B) with B = (W W^T)^{-1} W by a solve and P = I - W^T B."""
    W = np.asarray(W_out, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W_out must be 2-D (n_out, N), got shape {W.shape}")
    B = np.linalg.solve(W @ W.T, W)
    return np.eye(W.shape[1]) - W.T @ B, B


def null_space_projector(W_out) -> np.ndarray:
    """Orthogonal projector (N, N) onto the null space of the readout W_out (n_out, N)."""
    return _projector_parts(W_out)[0]


def _as_rows(rates) -> np.ndarray:
    R = np.asarray(rates, dtype=np.float64)
    if R.ndim == 3:
        R = R.reshape(-1, R.shape[-1])
    if R.ndim != 2:
        raise ValueError(f"rates must be (T, B, N) or (M, N), got shape {np.shape(rates)}")
    return R


def null_space_rates(rates, W_out) -> np.ndarray:
    """Centred rates projected onto the readout null space, (M, N) in float64."""
    R = _as_rows(rates)
    P = null_space_projector(W_out)
    if P.shape[0] != R.shape[1]:
        raise ValueError(f"rates have {R.shape[1]} units but W_out has {P.shape[0]} columns")
    return matmul(R - R.mean(axis=0), P)


def _check_xy(X, Y):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(f"X and Y must be 2-D, got shapes {X.shape} and {Y.shape}")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of rows, got {X.shape[0]} and {Y.shape[0]}")
    return X, Y


class _RidgeFactor:
    """Cholesky factor of A = X^T X + rho I, built from the Gram matrix X^T X and shared across targets."""

    def __init__(self, XtX, rho, rho_mode):
        self.XtX = XtX
        self.n_x = XtX.shape[0]
        _check_rho(rho, rho_mode)
        # relative mode: rho = rel * ||X||^2 / N_x, with ||X||^2 = trace(X^T X)
        self.rel = float(rho) if rho_mode == "relative" else 0.0
        self.rho = self.rel * float(np.trace(XtX)) / self.n_x if self.rel else float(rho)
        A = XtX.copy()
        A[np.diag_indices_from(A)] += self.rho
        try:
            self.cho = cho_factor(A)
        except LinAlgError as err:
            raise ValueError(f"X^T X + rho I is not positive definite (rho={self.rho:g}); "
                             "use rho > 0 and a predictor with non-zero activity") from err

    def value(self, C, ny2, with_grad=False):
        """S from C = X^T Y and ||Y||^2; with_grad adds (U, K) such that dS/dX = Y U^T + X K."""
        if ny2 == 0.0:
            raise ValueError("Y is all zero: predictability of a silent target is undefined")
        Z = cho_solve(self.cho, C)
        S = float(np.vdot(Z, self.XtX @ Z)) / ny2  # ||X Z||^2 without forming X Z
        if not with_grad:
            return S, None, None
        W = cho_solve(self.cho, Z)
        V = Z - self.rho * W
        K = (2.0 / ny2) * (self.rho * (W @ Z.T) - Z @ V.T)
        if self.rel:
            K[np.diag_indices_from(K)] += -4.0 * self.rel * float(np.vdot(V, Z)) / (self.n_x * ny2)
        return S, (2.0 / ny2) * V, K


def ridge_predictability(X, Y, rho=1e-3, rho_mode="relative") -> float:
    """S(X, Y): fraction of ||Y||^2 captured by the ridge fit of Y on X (in-sample)."""
    X, Y = _check_xy(X, Y)
    return _RidgeFactor(X.T @ X, rho, rho_mode).value(X.T @ Y, float(np.vdot(Y, Y)))[0]


def ridge_predictability_grad(X, Y, rho=1e-3, rho_mode="relative"):
    """(S(X, Y), dS/dX) with the exact gradient, including rho's dependence on X in relative mode."""
    X, Y = _check_xy(X, Y)
    S, U, K = _RidgeFactor(X.T @ X, rho, rho_mode).value(X.T @ Y, float(np.vdot(Y, Y)), with_grad=True)
    return S, Y @ U.T + X @ K


class INSDPenalty:
    """lambda * sum_i S(R_new_perp, Y_i) for one batch, as the trainer's penalty callable."""

    def __init__(self, earlier, lam, rho=1e-3, rho_mode="relative"):
        if not earlier:
            raise ValueError("INSDPenalty needs at least one earlier network")
        _check_rho(rho, rho_mode)
        self.earlier = {name: np.ascontiguousarray(Y, dtype=np.float64) for name, Y in earlier.items()}
        for name, Y in self.earlier.items():
            if Y.ndim != 2:
                raise ValueError(f"earlier rates {name!r} must be (M, N), got shape {Y.shape}")
            if not np.any(Y):
                raise ValueError(f"earlier rates {name!r} are all zero: nothing to decouple from")
        self.lam = float(lam)
        self.rho = rho
        self.rho_mode = rho_mode

    def __call__(self, traj, params):
        """Return (value, dvalue/d traj.r[1:], dvalue/d W_out, {name: lam * S_i})."""
        rates = traj.r[1:]
        R = _as_rows(rates)
        P, B = _projector_parts(params.W_out)
        if P.shape[0] != R.shape[1]:
            raise ValueError(f"rates have {R.shape[1]} units but W_out has {P.shape[0]} columns")
        Rc = R - R.mean(axis=0)
        gram = matmul(Rc.T, Rc)
        factor = _RidgeFactor(P @ gram @ P, self.rho, self.rho_mode)  # X = Rc P is never formed

        # dvalue/dX = G = sum_i Y_i U_i^T + X K; accumulate G P and H = Rc^T G piecewise
        GP = np.zeros_like(Rc)
        H = np.zeros_like(gram)
        K = np.zeros_like(gram)
        parts = {}
        for name, Y in self.earlier.items():
            if Y.shape[0] != Rc.shape[0]:
                raise ValueError(f"earlier rates {name!r} have {Y.shape[0]} rows, the new network {Rc.shape[0]}")
            D = matmul(Rc.T, Y)
            S, U, K_i = factor.value(P @ D, float(np.vdot(Y, Y)), with_grad=True)
            parts[name] = self.lam * S
            GP += matmul(Y, self.lam * U.T @ P)
            H += self.lam * D @ U.T
            K += self.lam * K_i
        GP += matmul(Rc, P @ K @ P)
        H += gram @ P @ K

        dR = GP - GP.mean(axis=0)
        dW = -B @ (H + H.T) @ P
        value = float(sum(parts.values()))
        return (value, dR.reshape(rates.shape).astype(traj.r.dtype, copy=False),
                dW.astype(params.W_out.dtype, copy=False), parts)
