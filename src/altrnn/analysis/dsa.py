"""Dynamical Similarity Analysis (DSA): compare two networks by their linearised dynamics.

Two steps, following the method's published description (Ostrow et al., 2023):

1. ``fit_dmd``, once per network: delay-embed the trajectories (a Hankel
   matrix), take its leading ``rank`` principal components (whitened by
   default, as published), and fit by least squares the linear operator A
   that advances them by one time step (rank-reduced DMD).
2. ``dsa_distance``, per pair of networks: Procrustes over vector fields,
   min over orthogonal C of ||C A C^T - B||_F, optimised through the Cayley map
   with an analytic gradient and L-BFGS from several starts, reported as an
   angle; symmetric in the two networks by construction.

Conventions: states are (T, B, N) time-major, like the rest of the package;
coordinates are rows, and the operator acts on column vectors, z[t+1] = A z[t].
"""

import logging
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.linalg import eigh, lstsq, solve
from scipy.optimize import minimize

__all__ = ["DMDFit", "hankel_embedding", "fit_dmd", "cayley", "procrustes_operators", "dsa_distance"]

log = logging.getLogger("altrnn.analysis.dsa")

N_RESTARTS = 4
PATIENCE = 10
MAX_STARTS = 64
IMPROVEMENT = 1e-6
RANK_TOL = 1e-6


@dataclass(frozen=True)
class DMDFit:
    """The reduced operator of one network and what produced it."""

    A: np.ndarray  # (rank, rank), z[t+1] = A z[t] in the reduced Hankel coordinates
    singular_values: np.ndarray  # (rank,) of the Hankel matrix, descending
    n_delays: int
    delay_interval: int
    whiten: bool = True

    @property
    def rank(self) -> int:
        return self.A.shape[0]

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvals(self.A)


def _trials(states) -> np.ndarray:
    X = np.asarray(states, dtype=np.float64)
    if X.ndim == 2:
        X = X[:, None, :]
    if X.ndim != 3:
        raise ValueError(f"states must be (T, B, N) or (T, N), got shape {X.shape}")
    if X.shape[0] < 2 or X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(f"states must have at least 2 time steps, 1 trial and 1 unit, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("states contains non-finite values")
    return X


def hankel_embedding(states, n_delays=20, delay_interval=1) -> np.ndarray:
    """Delay embedding (B, L, n_delays * N): row t of trial b is [x[t], x[t+k], ..., x[t+(d-1)k]].

    Each trial is embedded on its own, so no row mixes two trials;
    L = T - (n_delays - 1) * delay_interval.
    """
    X = _trials(states)
    if int(n_delays) != n_delays or n_delays < 1:
        raise ValueError(f"n_delays must be an integer >= 1, got {n_delays}")
    if int(delay_interval) != delay_interval or delay_interval < 1:
        raise ValueError(f"delay_interval must be an integer >= 1, got {delay_interval}")
    n_delays, delay_interval = int(n_delays), int(delay_interval)
    T, B, N = X.shape
    L = T - (n_delays - 1) * delay_interval
    if L < 2:
        raise ValueError(f"n_delays={n_delays} with delay_interval={delay_interval} needs more than "
                         f"{(n_delays - 1) * delay_interval + 1} time steps, states have T={T}")
    H = np.empty((B, L, n_delays * N))
    for k in range(n_delays):
        start = k * delay_interval
        H[:, :, k * N:(k + 1) * N] = X[start:start + L].transpose(1, 0, 2)
    return H


def fit_dmd(states, n_delays=20, rank=15, delay_interval=1, whiten=True) -> DMDFit:
    """Rank-reduced DMD of delay-embedded trajectories (T, B, N) or (T, N).

    The Hankel matrix H (rows: every embedded time step of every trial) has
    the SVD H = U S V^T. By default (whiten=True, as in the published DSA)
    the reduced coordinates of a row h are z = S_r^-1 U_r^T h, the leading
    right singular vectors: every mode has unit variance, so DSA compares the
    shape of the dynamics, not how much variance each mode carries. A is the
    least squares solution of z[t+1] = A z[t] over the consecutive pairs of
    each trial. A rotation or rescaling of the states changes A only by a
    sign change of basis (which DSA factors out). whiten=False uses the
    projections z = U_r^T h instead (an orthonormal basis of the principal
    subspace): it keeps the modes' variances, and in our tests it estimated
    the operator of a noisy linear system more precisely, since whitening
    multiplies the couplings between a large and a small mode by their ratio
    of singular values.
    H is not centred: the operator is linear, so a constant offset appears as
    a mode with eigenvalue near 1.

    The SVD is taken through the eigenvectors of H^T H (n_delays * N square),
    5x faster than an SVD of the tall H at the usual sizes; it resolves
    singular values down to about 1e-7 of the largest. Directions whose
    singular value is below RANK_TOL (1e-6) of the largest would be rounding
    noise: when the states have fewer than `rank` such directions (a network
    whose activity collapsed onto a few dimensions), A is fitted on the ones
    there are and padded with zeros to rank x rank (modes without activity,
    eigenvalue 0), with a logged warning, so that it can still be compared.
    """
    H3 = hankel_embedding(states, n_delays, delay_interval)
    B, L, D = H3.shape
    H = H3.reshape(B * L, D)
    if int(rank) != rank or not 1 <= rank <= min(D, B * L):
        raise ValueError(f"rank must be an integer in [1, {min(D, B * L)}] (embedding dimension "
                         f"{D}, {B * L} embedded time steps), got {rank}")
    rank = int(rank)
    evals, U = eigh(H.T @ H, subset_by_index=[D - rank, D - 1])
    evals, U = evals[::-1], U[:, ::-1]
    top = max(evals[0], 0.0)
    if top == 0.0:
        raise ValueError("the delay-embedded states are all zero: DSA is undefined")
    n_ok = int(np.sum(evals > RANK_TOL ** 2 * top))
    if n_ok < rank:  # e.g. a network whose activity collapsed onto a few dimensions
        log.warning("rank=%d exceeds the numerical rank of the delay-embedded states (%d singular values above "
                    "%g times the largest): the operator is fitted on those %d directions and padded with "
                    "zeros (modes without activity)", rank, n_ok, RANK_TOL, n_ok)
    s = np.sqrt(np.maximum(evals, 0.0))
    Z = (H @ U[:, :n_ok])
    if whiten:
        Z /= s[:n_ok]
    Z = Z.reshape(B, L, n_ok)
    Z0 = Z[:, :-1].reshape(-1, n_ok)
    Z1 = Z[:, 1:].reshape(-1, n_ok)
    A = np.zeros((rank, rank))
    A[:n_ok, :n_ok] = lstsq(Z0, Z1, lapack_driver="gelsd")[0].T
    return DMDFit(A=A, singular_values=s, n_delays=int(n_delays), delay_interval=int(delay_interval),
                  whiten=bool(whiten))


# --- Procrustes over vector fields -----------------------------------------------------------------


def _skew(params, n) -> np.ndarray:
    S = np.zeros((n, n))
    S[np.triu_indices(n, 1)] = params
    return S - S.T


def cayley(S) -> np.ndarray:
    """Cayley map C = (I - S)(I + S)^-1 of a skew-symmetric S: a rotation (det +1) without eigenvalue -1."""
    S = np.asarray(S, dtype=np.float64)
    eye = np.eye(S.shape[0])
    # (I - S) and (I + S)^-1 commute, so C = (I + S)^-1 (I - S): one linear solve.
    return solve(eye + S, eye - S)


@njit(cache=True, error_model="numpy")
def _objective_kernel(params, A, B, C0, scale):
    """-<C A C^T, B> / scale and its gradient in the upper-triangle entries of S, with C = C0 cayley(S)."""
    n = A.shape[0]
    S = np.zeros((n, n))
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            S[i, j] = params[k]
            S[j, i] = -params[k]
            k += 1
    eye = np.eye(n)
    M = np.linalg.inv(eye + S)
    K = M @ (eye - S)
    C = C0 @ K
    CA = C @ A
    value = -np.sum((CA @ C.T) * B) / scale
    # d<C A C^T, B>/dC = B C A^T + B^T C A;  through C = C0 K and dK = -(I + K) dS M:
    G_K = C0.T @ (B @ C @ A.T + B.T @ CA)
    Gamma = (eye + K).T @ G_K @ M.T
    grad = np.empty(k)
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            grad[k] = (Gamma[i, j] - Gamma[j, i]) / scale
            k += 1
    return value, grad


def _objective(params, A, B, C0, scale):
    """-<C A C^T, B> / scale and its gradient in the upper-triangle entries of S (C = C0 cayley(S))."""
    return _objective_kernel(np.ascontiguousarray(params, dtype=np.float64), A, B, C0, scale)


def _sign_pattern(W) -> np.ndarray:
    """Signs d (d[0] = 1) maximising d^T W d: brute force up to 2^15 patterns, else greedy single flips."""
    n = W.shape[0]
    if n <= 16:
        k = np.arange(2 ** (n - 1))[:, None]
        D = np.ones((k.shape[0], n))
        D[:, 1:] = 1.0 - 2.0 * ((k >> np.arange(n - 1)) & 1)
        return D[np.argmax(np.einsum("ki,ij,kj->k", D, W, D))]
    d = np.ones(n)
    for _ in range(100):
        gain = -4.0 * d * (W @ d - np.diag(W) * d)  # change of d^T W d when d[i] flips (W symmetric)
        i = int(np.argmax(gain[1:])) + 1
        if gain[i] <= 1e-12 * np.abs(W).sum():
            break
        d[i] = -d[i]
    return d


def _schur_basis(A) -> np.ndarray:
    """Orthonormal basis of A's invariant subspaces, eigenvalues by decreasing modulus (a real Schur basis).

    QR of the eigenvectors in that order (a complex pair as its real and
    imaginary parts) gives Q with Q^T A Q block upper triangular.
    """
    w, V = np.linalg.eig(A)
    keep = np.flatnonzero(w.imag >= 0)  # one of each conjugate pair
    keep = keep[np.argsort(-np.abs(w[keep]), kind="stable")]
    cols = []
    for i in keep:
        cols += [V[:, i].real] if w[i].imag == 0 else [V[:, i].real, V[:, i].imag]
    return np.linalg.qr(np.column_stack(cols))[0]


def _aligned_bases(A, B, P, R) -> np.ndarray:
    """C = R D P^T mapping basis P of A onto basis R of B, with the signs D maximising <C A C^T, B>.

    With C = R D P^T the objective is d^T (A_P * B_R) d, A_P = P^T A P,
    B_R = R^T B R (elementwise product): a small sign problem.
    """
    W = (P.T @ A @ P) * (R.T @ B @ R)
    d = _sign_pattern(W + W.T)
    return R @ (d[:, None] * P.T)


def _deterministic_starts(A, B, reflections) -> list:
    """Identity, aligned eigenbases of the symmetric parts, aligned Schur bases (each also reflected
    for even n with reflections, since SO(n) does not reach the other half of O(n))."""
    n = A.shape[0]
    starts = [np.eye(n)]
    if n > 1:
        starts += [_aligned_bases(A, B, np.linalg.eigh(A + A.T)[1], np.linalg.eigh(B + B.T)[1]),
                   _aligned_bases(A, B, _schur_basis(A), _schur_basis(B))]
    flip = np.eye(n)
    flip[0, 0] = -1.0
    out = []
    for C0 in starts:
        out.append(_proper(C0, reflections))
        if reflections and n % 2 == 0:
            out.append(flip @ out[-1])
    return out


def _proper(C0, reflections) -> np.ndarray:
    """C0, moved into SO(n) where that changes nothing (odd n: -C0) or where reflections are excluded."""
    if np.linalg.det(C0) > 0 or (reflections and C0.shape[0] % 2 == 0):
        return C0
    if C0.shape[0] % 2 == 1:
        return -C0  # -C gives the same C A C^T
    return C0 * np.where(np.arange(C0.shape[0]) == 0, -1.0, 1.0)  # flip the first column


def _random_start(n, rng, reflections) -> np.ndarray:
    """A uniformly random orthogonal matrix (seeded), in SO(n) unless reflections of even n are searched."""
    from scipy.stats import ortho_group  # scipy.stats is slow to import; only needed here

    return _proper(ortho_group.rvs(n, random_state=rng), reflections)


def _in_order(A, B) -> bool:
    """A canonical order of a pair: A first unless B is lexicographically smaller."""
    differ = np.flatnonzero(A.ravel() != B.ravel())
    return differ.size == 0 or A.flat[differ[0]] < B.flat[differ[0]]


def procrustes_operators(A, B, n_restarts=N_RESTARTS, seed=0, reflections=True, patience=PATIENCE):
    """max over orthogonal C of <C A C^T, B>; returns (C, inner product).

    Optimises over C = C0 cayley(S) with L-BFGS from deterministic base
    points C0: the identity (right when the operators are already aligned,
    as the principal bases of fit_dmd often nearly are), the alignments of
    the eigenbases of the symmetric parts and of the Schur bases (both exact
    for B = Q A Q^T with distinct eigenvalues); then from seeded uniformly
    random orthogonal matrices. The objective is not convex and each Cayley
    chart misses the rotations a half-turn away from C0, so several starts
    are needed: at least `n_restarts`, and then more until `patience`
    consecutive starts have not raised the best cosine <C A C^T, B> /
    (||A|| ||B||) by more than IMPROVEMENT (at most MAX_STARTS). The result
    is the best of the starts, an upper bound on the true distance.
    patience=0 runs exactly max(n_restarts, 1) starts (at least one).
    Why these defaults: see benchmarks/dsa_optimum.py and config/README.md.

    Symmetric by construction: (B, A) is the same problem with C^T, so the
    pair is solved in a canonical order (_in_order) and the result
    transposed; (A, B) and (B, A) give the same inner product bit for bit.

    With reflections=True the whole orthogonal group O(n) is searched. For
    odd n this is free: C and -C give the same C A C^T, and -I is a
    reflection, so SO(n) already covers O(n). For even n the deterministic
    starts are repeated with the reflection diag(-1, 1, ..., 1) in front and
    random starts are drawn from O(n). Reflections matter because the sign
    of each singular vector in fit_dmd is arbitrary: two networks whose
    states differ by a rotation can have operators that differ by a reflection.
    """
    A, B = _operator("A", A), _operator("B", B)
    if A.shape != B.shape:
        raise ValueError(f"A and B must have the same shape, got {A.shape} and {B.shape}")
    if int(n_restarts) != n_restarts or n_restarts < 1:
        raise ValueError(f"n_restarts must be an integer >= 1, got {n_restarts}")
    if int(patience) != patience or patience < 0:
        raise ValueError(f"patience must be an integer >= 0, got {patience}")
    if not _in_order(A, B):
        C, inner = procrustes_operators(B, A, n_restarts, seed, reflections, patience)
        return C.T, inner
    n = A.shape[0]
    scale = np.linalg.norm(A) * np.linalg.norm(B)
    if scale == 0.0:
        return np.eye(n), 0.0
    starts = _deterministic_starts(A, B, reflections)
    n_min, n_max = (int(n_restarts), MAX_STARTS) if patience else (int(n_restarts), int(n_restarts))
    rng = np.random.default_rng(seed)
    best_C, best, since = np.eye(n), -np.inf, 0
    with _one_blas_thread():
        for k in range(max(n_max, n_min)):
            if k < len(starts):
                C0 = starts[k]
            elif n == 1:
                break
            else:
                C0 = _random_start(n, rng, reflections)
            C = _refine(A, B, C0, scale)
            inner = float(np.vdot(C @ A @ C.T, B))
            since = 0 if inner > best + IMPROVEMENT * scale else since + 1
            if inner > best:
                best_C, best = C, inner
            if best >= (1.0 - 1e-12) * scale:  # the Cauchy-Schwarz bound: no start can do better
                break
            if patience and k + 1 >= n_min and since >= patience:
                break
    return best_C, best


_controller = None


def _one_blas_thread():
    """Limit BLAS to one thread: L-BFGS-B's BLAS calls on tiny vectors ran ~100x slower with a
    multi-threaded OpenBLAS on a busy machine (9 ms instead of 0.1 ms per iteration)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def _refine(A, B, C0, scale, max_charts=20, iters_per_chart=100):
    """L-BFGS in the Cayley chart around C0; recentre the chart on the result until it converges.

    The chart is best conditioned near S = 0 (dC = -2 C0 dS there), so a run
    of at most `iters_per_chart` iterations is followed by a new chart around
    its end point.
    """
    n = A.shape[0]
    if n == 1:
        return C0
    x0 = np.zeros(n * (n - 1) // 2)
    for _ in range(max_charts):
        res = minimize(_objective, x0, args=(A, B, C0, scale), jac=True, method="L-BFGS-B",
                       options={"maxiter": iters_per_chart, "gtol": 1e-7, "ftol": 1e-12})
        C0 = C0 @ cayley(_skew(res.x, n))
        if res.status != 1:  # 1: iteration limit reached; anything else: converged (or cannot improve)
            break
    return C0


def _operator(name, A) -> np.ndarray:
    if isinstance(A, DMDFit):
        A = A.A
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix (or a DMDFit), got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains non-finite values")
    return np.ascontiguousarray(A)


def dsa_distance(A, B, score="angular", n_restarts=N_RESTARTS, seed=0, reflections=True,
                 patience=PATIENCE) -> float:
    """DSA distance between two operators (arrays or DMDFit) of the same rank.

    score="angular" (default): arccos(<C A C^T, B>_F / (||A||_F ||B||_F)) at the
    best orthogonal C, in radians in [0, pi]: 0 for operators that are the
    same up to an orthogonal change of basis, and blind to the overall scale of
    each operator. score="euclidean": min_C ||C A C^T - B||_F itself.
    Deterministic for a given seed. Symmetric up to the optimiser's tolerance.
    """
    A, B = _operator("A", A), _operator("B", B)
    if score not in ("angular", "euclidean"):
        raise ValueError(f"score must be 'angular' or 'euclidean', got {score!r}")
    _, inner = procrustes_operators(A, B, n_restarts=n_restarts, seed=seed, reflections=reflections,
                                    patience=patience)
    na, nb = np.linalg.norm(A), np.linalg.norm(B)
    if score == "euclidean":
        return float(np.sqrt(max(na ** 2 + nb ** 2 - 2 * inner, 0.0)))
    if na == 0.0 or nb == 0.0:
        raise ValueError("the angular DSA score is undefined for a zero operator")
    return float(np.arccos(np.clip(inner / (na * nb), -1.0, 1.0)))
