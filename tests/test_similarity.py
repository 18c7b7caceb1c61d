"""Tests of the similarity measures (CKA, RSA, Procrustes angle) and the METRICS registry / pairwise tables."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import ortho_group, pearsonr, spearmanr

from altrnn.analysis import similarity as sim
from altrnn.analysis.similarity import METRICS, Metric, linear_cka, pairwise, procrustes_angle, rsa


@pytest.fixture(scope="module")
def XY():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 6)) @ rng.standard_normal((6, 6))
    Y = np.tanh(X @ rng.standard_normal((6, 5))) + 0.3 * rng.standard_normal((120, 5))
    return X, Y


def transforms(X, seed=1):
    """Copies of X that every measure here must treat as X itself: rotation+reflection, permutation, scale, shift."""
    rng = np.random.default_rng(seed)
    Q = ortho_group.rvs(X.shape[1], random_state=seed)
    return {"rotation": X @ Q, "permutation": X[:, rng.permutation(X.shape[1])], "scale": 3.7 * X,
            "shift": X + rng.standard_normal(X.shape[1])}


# --- CKA ----------------------------------------------------------------------------------------------


def test_cka_matches_the_hsic_formula(XY):
    X, Y = XY[0][:15], XY[1][:15]
    M = X.shape[0]
    H = np.eye(M) - 1.0 / M
    K, L = X @ X.T, Y @ Y.T
    hsic = lambda P, R: np.trace(P @ H @ R @ H)  # noqa: E731
    expected = hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))
    assert linear_cka(X, Y) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kind", ["rotation", "permutation", "scale", "shift"])
def test_measures_are_invariant(XY, kind):
    X, Y = XY
    Yt = transforms(Y)[kind]
    assert linear_cka(X, Yt) == pytest.approx(linear_cka(X, Y), rel=1e-10)
    assert rsa(X, Yt) == pytest.approx(rsa(X, Y), abs=1e-12)
    assert rsa(X, Yt, correlation="pearson") == pytest.approx(rsa(X, Y, correlation="pearson"), abs=1e-10)
    assert procrustes_angle(X, Yt) == pytest.approx(procrustes_angle(X, Y), abs=1e-10)
    # and a transformed copy is identical to the original
    assert linear_cka(Y, Yt) == pytest.approx(1.0, rel=1e-10)
    assert rsa(Y, Yt) == pytest.approx(1.0, abs=1e-12)
    assert procrustes_angle(Y, Yt) < 1e-6


# --- RSA ----------------------------------------------------------------------------------------------


def test_rsa_matches_scipy_on_the_rdms(XY):
    X, Y = XY
    dx, dy = pdist(X), pdist(Y)
    assert rsa(X, Y) == pytest.approx(spearmanr(dx, dy).statistic, abs=1e-12)
    assert rsa(X, Y, correlation="pearson") == pytest.approx(pearsonr(dx, dy).statistic, abs=1e-12)
    cx, cy = pdist(X, "correlation"), pdist(Y, "correlation")
    assert rsa(X, Y, dissimilarity="correlation") == pytest.approx(spearmanr(cx, cy).statistic, abs=1e-12)
    assert rsa(X, X) == pytest.approx(1.0)


def test_rsa_subsamples_rows_deterministically(XY):
    X, Y = XY
    idx = np.unique(np.linspace(0, X.shape[0] - 1, 40).round().astype(int))
    assert rsa(X, Y, max_rows=40) == pytest.approx(spearmanr(pdist(X[idx]), pdist(Y[idx])).statistic, abs=1e-12)
    assert rsa(X, Y, max_rows=40) != pytest.approx(rsa(X, Y), abs=1e-6)


def test_rsa_rejects_bad_input(XY):
    X, Y = XY
    with pytest.raises(ValueError, match="dissimilarity"):
        rsa(X, Y, dissimilarity="cosine")
    with pytest.raises(ValueError, match="correlation must be"):
        rsa(X, Y, correlation="kendall")
    Z = X.copy()
    Z[0] = 0.0
    with pytest.raises(ValueError, match="no variance across units"):
        rsa(Z, Y, dissimilarity="correlation")
    with pytest.raises(ValueError, match="all dissimilarities of X are equal"):
        rsa(np.eye(4), np.random.default_rng(0).standard_normal((4, 2)))


# --- Procrustes angle -----------------------------------------------------------------------------------


def _orthonormal_centred(M, k, seed=0):
    """k centred orthonormal columns of length M."""
    A = np.random.default_rng(seed).standard_normal((M, k))
    A -= A.mean(axis=0)
    return np.linalg.qr(A)[0]


def test_procrustes_angle_closed_forms():
    U = _orthonormal_centred(50, 3)
    u, v, w = U.T
    # two columns scaled 1 and 2: cos = (1*1 + 1*2) / (sqrt(2) sqrt(5))
    X, Y = np.column_stack([u, v]), np.column_stack([u, 2 * v])
    assert procrustes_angle(X, Y) == pytest.approx(np.arccos(3 / np.sqrt(10)), abs=1e-12)
    # one column turned by theta out of its line: the angle is theta (up to pi/2, reflections allowed)
    for theta in (0.3, 1.2, 2.5):
        Z = (np.cos(theta) * u + np.sin(theta) * w)[:, None]
        expected = min(theta, np.pi - theta)
        assert procrustes_angle(u[:, None], Z) == pytest.approx(expected, abs=1e-9)
    # zero padding: a wider copy with an empty column is the same shape
    assert procrustes_angle(X, np.column_stack([X, np.zeros(50)]) @ ortho_group.rvs(3, random_state=2)) < 1e-6
    # orthogonal configurations are pi/2 apart
    assert procrustes_angle(u[:, None], w[:, None]) == pytest.approx(np.pi / 2, abs=1e-12)


def test_procrustes_angle_is_a_symmetric_metric():
    rng = np.random.default_rng(3)
    X, Y, Z = (rng.standard_normal((40, k)) for k in (3, 4, 5))
    assert procrustes_angle(X, Y) == pytest.approx(procrustes_angle(Y, X), abs=1e-12)
    assert procrustes_angle(X, Z) <= procrustes_angle(X, Y) + procrustes_angle(Y, Z) + 1e-12


def test_input_checks_name_the_argument():
    X = np.ones((10, 3)) + np.arange(10)[:, None]
    with pytest.raises(ValueError, match="X must be 2-D"):
        procrustes_angle(np.ones(10), X)
    with pytest.raises(ValueError, match="same number of rows"):
        rsa(X, X[:5])
    with pytest.raises(ValueError, match="Y contains non-finite"):
        linear_cka(X, np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="Y is constant"):
        procrustes_angle(X, np.ones((10, 2)))


# --- registry and pairwise tables -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def states():
    """Trajectories (T, B, N) of three small random tanh networks and a rotated copy of the first."""
    rng = np.random.default_rng(5)
    T, B = 30, 6
    out = {}
    for name, N in [("a", 5), ("b", 5), ("c", 7)]:
        W = 1.3 * rng.standard_normal((N, N)) / np.sqrt(N)
        W_in = rng.standard_normal((N, 2))
        u = rng.standard_normal((T, B, 2))
        x = np.zeros((T, B, N))
        for t in range(1, T):
            x[t] = 0.8 * x[t - 1] + 0.2 * (np.tanh(x[t - 1]) @ W.T + u[t] @ W_in.T)
        out[name] = x
    out["a_rot"] = out["a"] @ ortho_group.rvs(5, random_state=9)
    return out


def test_registry_matches_the_direct_functions(states):
    flat = {k: v.reshape(-1, v.shape[2]) for k, v in states.items()}
    direct = {"cka": linear_cka, "rsa": rsa, "procrustes": procrustes_angle}
    for name, fn in direct.items():
        m = METRICS[name]
        got = m.compare(m.prepare(states["a"]), m.prepare(states["c"]))
        assert got == pytest.approx(fn(flat["a"], flat["c"]), abs=1e-12)
    assert {m.kind for m in METRICS.values()} <= {"similarity", "distance"}
    assert set(METRICS) == {"cka", "rsa", "procrustes", "dsa"}
    assert METRICS["cka"].distance(0.75) == pytest.approx(0.25)
    assert METRICS["rsa"].distance(-0.5) == pytest.approx(1.5)
    assert METRICS["procrustes"].distance(0.4) == 0.4
    assert METRICS["dsa"].distance(0.4) == 0.4


@pytest.mark.parametrize("name", ["cka", "rsa", "procrustes", "dsa"])
def test_pairwise_table(states, name):
    options = {"n_delays": 3, "rank": 6} if name == "dsa" else {}
    table = pairwise(name, states, **options)
    assert list(table.columns) == ["net_a", "net_b", "value"]
    assert len(table) == len(states) ** 2
    square = table.pivot(index="net_a", columns="net_b", values="value")
    np.testing.assert_array_equal(square.to_numpy(), square.to_numpy().T)
    identical = 1.0 if METRICS[name].kind == "similarity" else 0.0
    np.testing.assert_allclose(np.diag(square.to_numpy()), identical, atol=1e-4)
    assert square.loc["a", "a_rot"] == pytest.approx(identical, abs=1e-4)  # rotated copy
    assert abs(square.loc["a", "b"] - identical) > 1e-2  # a different network is not


def test_pairwise_prepares_once_and_compares_each_unordered_pair_once(states, monkeypatch):
    calls = {"prepare": 0, "compare": 0}

    def prepare(s):
        calls["prepare"] += 1
        return s.sum()

    def compare(a, b):
        calls["compare"] += 1
        return float(a * b)

    monkeypatch.setitem(METRICS, "counting", Metric("counting", "similarity", prepare, compare, lambda v: -v))
    table = pairwise("counting", states)
    n = len(states)
    assert calls == {"prepare": n, "compare": n * (n + 1) // 2}
    assert len(table) == n * n


def test_pairwise_rejects_bad_input(states):
    with pytest.raises(ValueError, match="metric_name"):
        pairwise("euclid", states)
    with pytest.raises(ValueError, match="unknown option"):
        pairwise("cka", states, rank=3)
    with pytest.raises(ValueError, match="same trials"):
        pairwise("cka", {"a": states["a"], "b": states["b"][:, :3]})
    with pytest.raises(ValueError, match=r"network 'z'"):
        pairwise("procrustes", {"a": states["a"], "z": np.ones((30, 6, 5))})


def test_distance_matrix(states):
    table = pairwise("cka", {k: states[k] for k in ("a", "b", "c")})
    names, D = sim.distance_matrix(table, "cka")
    assert names == ["a", "b", "c"]
    expected = 1 - table.set_index(["net_a", "net_b"])["value"]
    assert D[0, 2] == pytest.approx(expected[("a", "c")])
    np.testing.assert_allclose(np.diag(D), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="every ordered pair"):
        sim.distance_matrix(table.iloc[1:], "cka")
    with pytest.raises(ValueError, match="missing column"):
        sim.distance_matrix(pd.DataFrame({"net_a": ["a"]}), "cka")


def test_pairwise_dsa_passes_the_whitening_option_to_the_dmd_fit():
    from altrnn.analysis import dsa

    rng = np.random.default_rng(3)
    states = {name: rng.standard_normal((30, 4, 6)).cumsum(axis=0) * 0.1 for name in ("a", "b")}
    values = []
    for whiten in (False, True):
        table = pairwise("dsa", states, n_delays=3, rank=5, whiten=whiten, n_restarts=1)
        A = {n: dsa.fit_dmd(s, n_delays=3, rank=5, whiten=whiten).A for n, s in states.items()}
        expected = dsa.dsa_distance(A["a"], A["b"], n_restarts=1)
        values.append(table.query("net_a == 'a' and net_b == 'b'")["value"].item())
        assert values[-1] == pytest.approx(expected, abs=1e-9)
    assert abs(values[0] - values[1]) > 1e-5  # the option changes the answer, so the check above can fail
