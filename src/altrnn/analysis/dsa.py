"""Dynamical Similarity Analysis (DSA): compare two networks by their linearised dynamics.

Two steps, following the method's published description (Ostrow et al., 2023):

1. ``fit_dmd``, once per network: delay-embed the trajectories (a Hankel
   matrix), project on its leading ``rank`` principal directions, and fit by least
   squares the linear operator A that advances them by one time
   step (rank-reduced DMD).
2. ``dsa_distance``, per pair of networks: Procrustes over vector fields,
   min over orthogonal C of ||C A C^T - B||_F, optimised through the Cayley map
   with an analytic gradient and L-BFGS, reported as an angle.

Conventions: states are (T, B, N) time-major, like the rest of the package;
coordinates are rows, and the operator acts on column vectors, z[t+1] = A z[t].
"""

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.linalg import eigh, lstsq, solve
from scipy.optimize import minimize

__all__ = ["DMDFit", "hankel_embedding", "fit_dmd", "cayley", "procrustes_operators", "dsa_distance"]

N_RESTARTS = 4
RANK_TOL = 1e-6


@dataclass(frozen=True)
class DMDFit:
    """The reduced operator of one network and what produced it."""

    A: np.ndarray  # (rank, rank), z[t+1] = A z[t] in the reduced Hankel coordinates
    singular_values: np.ndarray  # (rank,) of the Hankel matrix, descending
    n_delays: int
    delay_interval: int
    whiten: bool = False

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


def fit_dmd(states, n_delays=20, rank=15, delay_interval=1, whiten=False) -> DMDFit:
    """Rank-reduced DMD of delay-embedded trajectories (T, B, N) or (T, N).

    The Hankel matrix H (rows: every embedded time step of every trial) has
    the SVD H = U S V^T. The reduced coordinates of a row h are z = U_r^T h,
    its projection on the leading `rank` principal directions of the
    embedding space, and A is the least squares solution of z[t+1] = A z[t]
    over the consecutive pairs of each trial: the dynamics restricted to the
    principal subspace, in an orthonormal basis, so a rotation of the states
    changes A only by an orthogonal change of basis (which DSA factors out),
    and a rescaling of the states not at all. whiten=True uses z = S_r^-1 U_r^T h
    (the leading right singular vectors) instead; this gives every mode unit
    variance but multiplies the couplings between a large and a small mode by
    their ratio of singular values, and in our tests it estimated the
    operator of a noisy linear system less precisely.
    H is not centred: the operator is linear, so a constant offset appears as
    a mode with eigenvalue near 1.

    The SVD is taken through the eigenvectors of H^T H (n_delays * N square),
    5x faster than an SVD of the tall H at the usual sizes; it resolves
    singular values down to about 1e-7 of the largest, so a rank whose last
    singular value is below RANK_TOL (1e-6) of the largest is an error (the
    coordinates would be rounding noise).
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
    if top == 0.0 or evals[-1] <= RANK_TOL ** 2 * top:
        n_ok = int(np.sum(evals > RANK_TOL ** 2 * top))
        raise ValueError(f"rank={rank} exceeds the numerical rank of the delay-embedded states "
                         f"({n_ok} singular values above {RANK_TOL:g} times the largest)")
    s = np.sqrt(evals)
    Z = H @ U
    if whiten:
        Z /= s
    Z = Z.reshape(B, L, rank)
    Z0 = Z[:, :-1].reshape(-1, rank)
    Z1 = Z[:, 1:].reshape(-1, rank)
    A_T = lstsq(Z0, Z1, lapack_driver="gelsd")[0]
    return DMDFit(A=np.ascontiguousarray(A_T.T), singular_values=s, n_delays=int(n_delays),
                  delay_interval=int(delay_interval), whiten=bool(whiten))


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


def _spectral_start(A, B) -> np.ndarray:
    """Rotation that maps A's symmetric-part eigenbasis onto B's (eigenvalues sorted), best signs chosen.

    For B = Q A Q^T with distinct eigenvalues this is Q itself; otherwise a
    reasonable place to start. Signs: with C = R D P^T the objective is
    d^T (A_P * B_R) d with A_P = P^T A P, B_R = R^T B R (elementwise product), a small sign problem.
    """
    _, P = np.linalg.eigh(A + A.T)
    _, R = np.linalg.eigh(B + B.T)
    W = (P.T @ A @ P) * (R.T @ B @ R)
    d = _sign_pattern(W + W.T)
    return R @ (d[:, None] * P.T)


def _starts(A, B, n_restarts, seed):
    """Deterministic base rotations: identity, spectral alignment, then seeded random rotations."""
    n = A.shape[0]
    starts = [np.eye(n), _spectral_start(A, B)]
    if n > 1:
        from scipy.stats import special_ortho_group  # scipy.stats is slow to import; only needed here

        rng = np.random.default_rng(seed)
        starts += [special_ortho_group.rvs(n, random_state=rng) for _ in range(n_restarts - 2)]
    return starts[:max(n_restarts, 1)]


def procrustes_operators(A, B, n_restarts=N_RESTARTS, seed=0, reflections=True):
    """max over orthogonal C of <C A C^T, B>; returns (C, inner product).

    Optimises over C = C0 cayley(S) with L-BFGS from `n_restarts` (default
    4) deterministic base points C0: the identity (right when the operators
    are already aligned), the alignment of the eigenbases of the symmetric
    parts (exact for B = Q A Q^T with distinct eigenvalues), then seeded
    random rotations. Several starts are needed because the objective is not
    convex and each Cayley chart misses the rotations a half-turn away from
    C0. Rotated copies of random operators are recovered exactly; for
    unrelated operators different starts end in different local optima, so
    the score is the best of the starts, an upper bound on the true distance.
    Why four: on the rank-15 operators of 6 random tanh networks (15 pairs,
    angles 0.035 to 0.059 rad), the best of 4 starts was within 0.0011 rad
    of the best of 12 (median difference 0), the best of 2 within 0.0037;
    each start costs about 0.1 s there. Raise it for a tighter bound.

    With reflections=True the whole orthogonal group O(n) is searched. For
    odd n this is free: C and -C give the same C A C^T, and -I is a
    reflection, so SO(n) already covers O(n). For even n the starts are
    repeated with the reflection diag(-1, 1, ..., 1) in front. Reflections
    matter because the sign of each singular vector in fit_dmd is arbitrary:
    two networks whose states differ by a rotation can have operators that
    differ by a reflection.
    """
    A, B = _operator("A", A), _operator("B", B)
    if A.shape != B.shape:
        raise ValueError(f"A and B must have the same shape, got {A.shape} and {B.shape}")
    if int(n_restarts) != n_restarts or n_restarts < 1:
        raise ValueError(f"n_restarts must be an integer >= 1, got {n_restarts}")
    n = A.shape[0]
    scale = np.linalg.norm(A) * np.linalg.norm(B)
    if scale == 0.0:
        return np.eye(n), 0.0
    flip = np.eye(n)
    flip[0, 0] = -1.0
    starts = []
    for C0 in _starts(A, B, int(n_restarts), seed):
        if np.linalg.det(C0) < 0 and not (reflections and n % 2 == 0):
            C0 = -C0 if n % 2 == 1 else flip @ C0  # same C A C^T for odd n; back into SO(n) for even n
        starts.append(C0)
        if reflections and n % 2 == 0:
            starts.append(flip @ C0)
    best_C, best = np.eye(n), -np.inf
    with _one_blas_thread():
        for C0 in starts:
            C = _refine(A, B, C0, scale)
            inner = float(np.vdot(C @ A @ C.T, B))
            if inner > best:
                best_C, best = C, inner
            if best >= (1.0 - 1e-12) * scale:  # the Cauchy-Schwarz bound: no start can do better
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


def dsa_distance(A, B, score="angular", n_restarts=N_RESTARTS, seed=0, reflections=True) -> float:
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
    _, inner = procrustes_operators(A, B, n_restarts=n_restarts, seed=seed, reflections=reflections)
    na, nb = np.linalg.norm(A), np.linalg.norm(B)
    if score == "euclidean":
        return float(np.sqrt(max(na ** 2 + nb ** 2 - 2 * inner, 0.0)))
    if na == 0.0 or nb == 0.0:
        raise ValueError("the angular DSA score is undefined for a zero operator")
    return float(np.arccos(np.clip(inner / (na * nb), -1.0, 1.0)))
