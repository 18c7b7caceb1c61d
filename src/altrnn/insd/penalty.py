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

Cost. ||E||^2 = <Z, X^T X Z> and dS/dX = Y U^T + X K with small U, K. The
penalty stacks the centred rates of the new and the earlier networks,
S = [Rc, Yc_1, ...] (float64; Y_i = Yc_i P_i is never formed), and makes two
products over the M rows: Rc^T S for all Gram matrices, and S F for dL/dR.
Everything else is N x N. The earlier networks' rates may be float32: they
are exact in float64, and every product is done in float64, because the
ridge solve amplifies errors of the Gram matrices by up to 1 + ||X||^2 / rho.
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ..model.kernels import matmul  # the large (M-row) products use the trainer's one BLAS
from .kernels import centre_into

RHO_MODES = ("absolute", "relative")

__all__ = [
    "RHO_MODES",
    "effective_rho",
    "null_space_projector",
    "null_space_rates",
    "ridge_predictability",
    "ridge_predictability_grad",
    "centred_stack",
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


def centred_stack(R, targets):
    """Z = [Rc, Yc_1, Yc_2, ...] (M, N + sum N_i), float64, Fortran-ordered, and ||Y_i||^2 for each target.

    targets: name -> (rates Y (M, N_i), readout basis Q_i or None); Yc is Y
    centred and Y_i = Yc_i P_i its null-space part, ||Y_i||^2 = ||Yc_i||^2 - ||Yc_i Q_i||^2.
    """
    M, N = R.shape
    widths = [N] + [Y.shape[1] for Y, _, _ in targets.values()]
    Z = np.empty((M, sum(widths)), order="F")
    centre_into(R, Z[:, :N])
    norms, start = [], N
    for name, (Y, Q, _) in targets.items():
        if Y.shape[0] != M:
            raise ValueError(f"earlier rates {name!r} have {Y.shape[0]} rows, the new network {M}")
        block = Z[:, start:start + Y.shape[1]]
        ny2 = centre_into(Y, block)
        if Q is not None:
            YQ = matmul(block, Q)
            ny2 -= float(np.vdot(YQ, YQ))
        norms.append(ny2)
        start += Y.shape[1]
    return Z, norms


class INSDPenalty:
    """lambda * sum_i S(R_new_perp, Y_i) for one batch, as the trainer's penalty callable.

    earlier: name -> rates (M, N_i) or (T, B, N_i) of an earlier network on the
    batch, in any float dtype. If readouts[name] is that network's W_out, the
    target Y_i is null_space_rates(rates, W_out), never formed; otherwise the
    rates are taken as null-space rates already (and centred: a no-op for
    null_space_rates' output).
    """

    def __init__(self, earlier, lam, rho=1e-3, rho_mode="relative", readouts=None):
        if not earlier:
            raise ValueError("INSDPenalty needs at least one earlier network")
        _check_rho(rho, rho_mode)
        readouts = readouts or {}
        self.targets = {}  # name -> (rates (M, N_i), readout basis Q_i or None, null-space projector P_i or None)
        for name, rates in earlier.items():
            Y = np.asarray(rates)
            Y = np.ascontiguousarray(Y.reshape(-1, Y.shape[-1]) if Y.ndim == 3 else Y)
            if Y.ndim != 2:
                raise ValueError(f"earlier rates {name!r} must be (M, N) or (T, B, N), got shape {Y.shape}")
            if not np.issubdtype(Y.dtype, np.floating):
                Y = Y.astype(np.float64)
            if not np.any(Y):
                raise ValueError(f"earlier rates {name!r} are all zero: nothing to decouple from")
            Q = P = None
            if name in readouts:
                W = np.asarray(readouts[name], dtype=np.float64)
                if W.ndim != 2 or W.shape[1] != Y.shape[1]:
                    raise ValueError(f"readout of {name!r} has shape {W.shape}, its rates {Y.shape[1]} units")
                Q = np.linalg.qr(W.T)[0]  # orthonormal basis of the readout's row space
                P = np.eye(W.shape[1]) - Q @ Q.T
            self.targets[name] = (Y, Q, P)
        self.lam = float(lam)
        self.rho = rho
        self.rho_mode = rho_mode

    def __call__(self, traj, params):
        """Return (value, dvalue/d traj.r[1:], dvalue/d W_out, {name: lam * S_i})."""
        rates = traj.r[1:]
        R = np.ascontiguousarray(rates).reshape(-1, rates.shape[-1])
        P, B = _projector_parts(params.W_out)
        if P.shape[0] != R.shape[1]:
            raise ValueError(f"rates have {R.shape[1]} units but W_out has {P.shape[0]} columns")
        Z, norms = centred_stack(R, self.targets)
        G = matmul(Z[:, :R.shape[1]].T, Z)  # Rc^T [Rc, Yc_1, Yc_2, ...]: the one product over the M rows
        F, H, parts = self.solve(G, P, norms)
        dR = matmul(Z, F)  # the one product back to the M rows
        dW = -B @ (H + H.T) @ P
        return (float(sum(parts.values())), dR.reshape(rates.shape).astype(traj.r.dtype, copy=False),
                dW.astype(params.W_out.dtype, copy=False), parts)

    def solve(self, G, P, norms):
        """(F, H, parts) from G = Rc^T [Rc, Yc_1, ...], the new network's projector P and the ||Y_i||^2.

        dvalue/dX = sum_i lam (Y_i U_i^T + X K_i) with Y_i = Yc_i P_i and X = Rc P, so that
        dvalue/dRc = Z F for F = [P K P; lam P_1 U_1^T P; ...] (centred, since Z's columns are)
        and H = Rc^T dvalue/dX, from which dvalue/dW_out follows.
        """
        N = P.shape[0]
        gram = G[:, :N]
        factor = _RidgeFactor(P @ gram @ P, self.rho, self.rho_mode)  # X = Rc P is never formed
        F = np.empty((G.shape[1], N))
        H = np.zeros_like(gram)
        K = np.zeros_like(gram)
        parts = {}
        start = N
        for (name, (Y, _, P_i)), ny2 in zip(self.targets.items(), norms):
            stop = start + Y.shape[1]
            D = G[:, start:stop] if P_i is None else G[:, start:stop] @ P_i  # Rc^T Y_i
            S, U, K_i = factor.value(P @ D, ny2, with_grad=True)
            parts[name] = self.lam * S
            F[start:stop] = self.lam * U.T @ P  # U = U P_i already: P_i U^T P = U^T P
            H += self.lam * D @ U.T
            K += self.lam * K_i
            start = stop
        F[:N] = P @ K @ P
        H += gram @ P @ K
        return F, H, parts
