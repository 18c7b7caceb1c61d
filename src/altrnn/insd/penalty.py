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

Cost. ||E||^2 = <Z, X^T X Z> and dS/dX = Y U^T + X K with small U, K; all
targets share one Cholesky factor and are solved together. The earlier
networks' centred rates Ye = [Yc_1, Yc_2, ...] are stored once per batch (Y_i =
Yc_i P_i is never formed, nor X = Rc P: every projector is applied as
I - Q Q^T with an orthonormal readout basis Q). Over the M rows there are
three products: Rc^T Rc (symmetric) and Rc^T Ye in float64 for the Gram
matrices, because the ridge solve amplifies their errors by up to
1 + ||X||^2 / rho, and Rc F_0 + Ye F_E for dL/dR in the rates' own dtype
(float32 products for float32 networks, whose dL/dR is float32 anyway).
Everything else is N x N.
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.linalg.blas import dgemm, dsyrk, sgemm  # scipy's OpenBLAS: the one numba's kernels.matmul uses

from ..model.kernels import matmul
from .kernels import centre_into

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

    def value(self, C, ny2):
        """S from C = X^T Y and ||Y||^2."""
        if ny2 == 0.0:
            raise ValueError("Y is all zero: predictability of a silent target is undefined")
        Z = cho_solve(self.cho, C, check_finite=False)
        return float(np.vdot(Z, self.XtX @ Z)) / ny2  # ||X Z||^2 without forming X Z

    def gradients(self, C, widths, norms, weights):
        """Targets Y_1, Y_2, ... at once from C = X^T [Y_1, Y_2, ...] (widths: their columns) and ||Y_i||^2.

        Returns ([S_i], U, K) with sum_i weights_i dS_i/dX = [Y_1, Y_2, ...] U^T + X K:
        per target U_i = c_i V_i and K = sum_i c_i (rho W_i Z_i^T - Z_i V_i^T), c_i = 2 weights_i / ||Y_i||^2.
        """
        norms = np.asarray(norms, dtype=np.float64)
        if np.any(norms == 0.0):
            raise ValueError("Y is all zero: predictability of a silent target is undefined")
        Z = cho_solve(self.cho, C, check_finite=False)
        W = cho_solve(self.cho, Z, check_finite=False)
        widths = np.asarray(widths)
        per_column = np.sum(Z * (self.XtX @ Z), axis=0)  # ||X Z||^2 column by column
        S = np.add.reduceat(per_column, np.cumsum(widths) - widths) / norms
        c = np.repeat(2.0 * np.asarray(weights, dtype=np.float64) / norms, widths)
        U = (Z - self.rho * W) * c
        K = self.rho * ((W * c) @ Z.T) - Z @ U.T
        if self.rel:
            K[np.diag_indices_from(K)] += -2.0 * self.rel * float(np.vdot(U, Z)) / self.n_x
        return [float(s) for s in S], U, K


def ridge_predictability(X, Y, rho=1e-3, rho_mode="relative") -> float:
    """S(X, Y): fraction of ||Y||^2 captured by the ridge fit of Y on X (in-sample)."""
    X, Y = _check_xy(X, Y)
    return _RidgeFactor(X.T @ X, rho, rho_mode).value(X.T @ Y, float(np.vdot(Y, Y)))


def ridge_predictability_grad(X, Y, rho=1e-3, rho_mode="relative"):
    """(S(X, Y), dS/dX) with the exact gradient, including rho's dependence on X in relative mode."""
    X, Y = _check_xy(X, Y)
    S, U, K = _RidgeFactor(X.T @ X, rho, rho_mode).gradients(X.T @ Y, [Y.shape[1]], [float(np.vdot(Y, Y))], [1.0])
    return S[0], Y @ U.T + X @ K


def _readout_basis(W_out, n_units, name):
    """Orthonormal basis Q (N, n_out) of the readout's row space: its null-space projector is I - Q Q^T."""
    W = np.asarray(W_out, dtype=np.float64)
    if W.ndim != 2 or W.shape[1] != n_units:
        raise ValueError(f"readout of {name} has shape {W.shape}, its rates {n_units} units")
    return np.linalg.qr(W.T)[0]


def _project(Q, X):
    """(I - Q Q^T) X without forming the projector (Q None: X)."""
    return X if Q is None else X - Q @ (Q.T @ X)


class INSDPenalty:
    """lambda * sum_i S(R_new_perp, Y_i) for one batch, as the trainer's penalty callable.

    earlier: name -> rates (M, N_i) or (T, B, N_i) of an earlier network on the
    batch, in any float dtype. If readouts[name] is that network's W_out, the
    target Y_i is null_space_rates(rates, W_out), never formed; otherwise the
    rates are taken as null-space rates already (and centred: a no-op for
    null_space_rates' output). The rates are centred into the penalty's own
    arrays here, so they may change afterwards. workspace (model.Workspace)
    holds those arrays and each call's results: a penalty is then valid until
    the next penalty or call that uses the same workspace (one training
    iteration); without one every array is new.
    """

    def __init__(self, earlier, lam, rho=1e-3, rho_mode="relative", readouts=None, workspace=None):
        if not earlier:
            raise ValueError("INSDPenalty needs at least one earlier network")
        _check_rho(rho, rho_mode)
        readouts = readouts or {}
        self.lam = float(lam)
        self.rho = rho
        self.rho_mode = rho_mode
        self.workspace = workspace
        rates = {}
        for name, Y in earlier.items():
            Y = np.asarray(Y)
            Y = Y.reshape(-1, Y.shape[-1]) if Y.ndim == 3 else Y
            if Y.ndim != 2:
                raise ValueError(f"earlier rates {name!r} must be (M, N) or (T, B, N), got shape {Y.shape}")
            rates[name] = np.ascontiguousarray(Y if np.issubdtype(Y.dtype, np.floating) else Y.astype(np.float64))
        rows = {Y.shape[0] for Y in rates.values()}
        if len(rows) > 1:
            raise ValueError(f"earlier rates have different numbers of rows: {sorted(rows)}")
        self.M = rows.pop()
        self.names = list(rates)
        self.widths = [Y.shape[1] for Y in rates.values()]
        self.Ye, self.Ye32 = self._pair("earlier", sum(self.widths))  # centred [Yc_1, Yc_2, ...]
        self.bases, self.norms, start = [], [], 0
        for name, Y in rates.items():
            Q = _readout_basis(readouts[name], Y.shape[1], repr(name)) if name in readouts else None
            Qt = np.zeros((0, Y.shape[1])) if Q is None else np.ascontiguousarray(Q.T)
            ny2, in_readout = centre_into(Y, self.Ye, self.Ye32, start, Qt)
            if ny2 == 0.0:
                raise ValueError(f"earlier rates {name!r} are all zero (or constant): nothing to decouple from")
            self.bases.append(Q)
            self.norms.append(ny2 - in_readout)  # ||Y_i||^2 = ||Yc_i||^2 - ||Yc_i Q_i||^2
            start += Y.shape[1]

    def _pair(self, name, width):
        """(M, width) arrays, float64 and float32 (from the workspace if there is one)."""
        if self.workspace is None:
            return np.empty((self.M, width)), np.empty((self.M, width), np.float32)
        return (self.workspace.get(f"insd_{name}", (self.M, width), np.float64),
                self.workspace.get(f"insd_{name}32", (self.M, width), np.float32))

    def __call__(self, traj, params):
        """Return (value, dvalue/d traj.r[1:], dvalue/d W_out, {name: lam * S_i})."""
        rates = traj.r[1:]
        R = np.ascontiguousarray(rates).reshape(-1, rates.shape[-1])
        M, N = R.shape
        if M != self.M:
            raise ValueError(f"earlier rates have {self.M} rows, the new network {M}")
        W = np.asarray(params.W_out, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != N:
            raise ValueError(f"rates have {N} units but W_out has {W.shape[-1]} columns")
        Rc, Rc32 = self._pair("rates", N)
        centre_into(R, Rc, Rc32, 0, np.zeros((0, N)))
        # BLAS sees C-ordered (M, n) arrays as Fortran-ordered (n, M) ones: Rc.T is Rc^T without a copy
        gram = dsyrk(1.0, Rc.T)  # Rc^T Rc, upper triangle
        gram = np.triu(gram) + np.triu(gram, 1).T
        Q = np.linalg.qr(W.T)[0]  # the new network's P = I - Q Q^T
        F0, FE, H, parts = self.solve(gram, dgemm(1.0, Rc.T, self.Ye.T, trans_b=1), Q)
        dR = self._back(Rc, Rc32, F0, FE, rates.dtype)
        BH = np.linalg.solve(W @ W.T, W) @ (H + H.T)  # B (H + H^T), B = (W W^T)^{-1} W
        dW = (BH @ Q) @ Q.T - BH  # -B (H + H^T) P
        return (float(sum(parts.values())), dR.reshape(rates.shape),
                dW.astype(params.W_out.dtype, copy=False), parts)

    def solve(self, gram, C, Q):
        """(F0, FE, H, parts) from gram = Rc^T Rc, C = Rc^T [Yc_1, Yc_2, ...] and the new readout's basis Q.

        With X = Rc P and Y_i = Yc_i P_i, dvalue/dX = [Y_1, ...] U^T + X K, so that
        dvalue/dRc = Rc F0 + [Yc_1, ...] FE for F0 = P K P and FE = U^T P (centred, since
        Rc and the Yc_i are; U_i P_i = U_i, so P_i U_i^T = U_i^T), and
        H = Rc^T dvalue/dX, from which dvalue/dW_out follows.
        """
        D = C.copy()  # Rc^T Y_i = (Rc^T Yc_i) P_i
        start = 0
        for Q_i, width in zip(self.bases, self.widths):
            if Q_i is not None:
                block = D[:, start:start + width]
                block -= (block @ Q_i) @ Q_i.T
            start += width
        factor = _RidgeFactor(_project(Q, _project(Q, gram).T), self.rho, self.rho_mode)  # X^T X = P gram P
        S, U, K = factor.gradients(_project(Q, D), self.widths, self.norms, [self.lam] * len(self.widths))
        PK = _project(Q, K)
        F0 = _project(Q, PK.T).T
        H = D @ U.T + gram @ PK
        return F0, _project(Q, U).T, H, {name: self.lam * s for name, s in zip(self.names, S)}

    def _back(self, Rc, Rc32, F0, FE, dtype):
        """dvalue/dR = Rc F0 + [Yc_1, ...] FE, (M, N) C-ordered: float32 products for float32 rates, else float64."""
        single = dtype == np.float32
        gemm, A, Ye, dt = (sgemm, Rc32, self.Ye32, np.float32) if single else (dgemm, Rc, self.Ye, np.float64)
        M, N = Rc.shape
        out = np.empty((N, M), dt, order="F") if self.workspace is None else \
            self.workspace.get("insd_dR", (M, N), dt).T
        out = gemm(1.0, F0.astype(dt), A.T, c=out, trans_a=1, overwrite_c=1)  # (Rc F0)^T = F0^T Rc^T
        out = gemm(1.0, FE.astype(dt), Ye.T, beta=1.0, c=out, trans_a=1, overwrite_c=1)
        return out.T.astype(dtype, copy=False)
