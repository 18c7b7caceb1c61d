"""Manifolds of any dimension, basin volumes and homoclinic points of small ReLU maps known by hand.

References are independent of the module: eigenvectors from the 2x2 and 3x3
characteristic polynomials, preimage lines and planes n^T (A_e x + c - x*) = 0
written out, the network's own map (`rnn_map`), per-point brute-force simulation.
"""

import numpy as np
import pytest

from altrnn.analysis import intersections, manifolds_nd as mnd, manifolds_pl, plrnn
from altrnn.analysis.plrnn import PLSystem
from altrnn.analysis.stability import rnn_map
from altrnn.model.network import ModelConfig, Params

U = np.zeros(1)


def relu_net(W, b, alpha=0.2):
    W = np.asarray(W, dtype=np.float64)
    N = len(W)
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="relu", alpha=alpha, dtype="float64")
    return Params(W_in=np.zeros((N, 1)), W=W, b=np.asarray(b, dtype=np.float64), W_out=np.zeros((1, N)),
                  b_out=np.zeros(1)), cfg


def A_of(W, alpha, d):
    """A_d written out: (1 - alpha) I + alpha W diag(d)."""
    return (1 - alpha) * np.eye(len(W)) + alpha * np.asarray(W) * np.asarray(d, dtype=float)[None, :]


def left_unstable_normal(A):
    """Unit normal n of the stable subspace of A with one eigenvalue |lambda| > 1: n^T A = lambda n^T,
    lambda a root of the characteristic polynomial, n from the null space of (A - lambda I)^T by
    cross products of its columns (3-D) or a perpendicular (2-D)."""
    lam = max(np.roots(np.poly(A)), key=abs).real
    B = (A - lam * np.eye(len(A))).T
    if len(A) == 2:
        n = np.array([-B[0, 1], B[0, 0]]) if np.abs(B[0]).max() > np.abs(B[1]).max() else np.array([-B[1, 1], B[1, 0]])
    else:
        crosses = [np.cross(B[i], B[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
        n = max(crosses, key=np.linalg.norm)
    return n / np.linalg.norm(n)


def normal_of(piece):
    """Unit normal of a piece of codimension 1."""
    V = piece.basis
    P = np.eye(len(V)) - V @ V.T
    w, vecs = np.linalg.eigh(P)
    return vecs[:, -1]


def check_pieces_against_plane(p, cfg, m, x_star, n, tol=1e-10):
    """Generation-0 pieces lie in the plane n.(x - x*) = 0; generation-1 pieces of region e in its exact
    preimage n.(A_e x + c - x*) = 0 (normal A_e^T n); every support point reaches the plane by F^g."""
    c = cfg.alpha * p.b
    n_gen1 = 0
    for i, piece in enumerate(m.pieces):
        nu = normal_of(piece)
        if piece.generation == 0:
            assert abs(abs(nu @ n) - 1) < tol
            assert abs(n @ (piece.point - x_star)) < tol
        elif piece.generation == 1:
            ne = A_of(p.W, cfg.alpha, piece.region).T @ n
            assert abs(abs(nu @ ne) / np.linalg.norm(ne) - 1) < tol
            assert abs(n @ (A_of(p.W, cfg.alpha, piece.region) @ piece.point + c - x_star)) < tol
            n_gen1 += 1
        for x in m.support[m.support_piece == i][:20]:
            y = x
            for _ in range(piece.generation):
                y = rnn_map(p, cfg, y, U)
            assert abs(n @ (y - x_star)) < tol * max(1.0, np.abs(x).max())
    return n_gen1


def test_1d_stable_manifold_of_a_2d_map_is_the_line_and_its_exact_preimages():
    p, cfg = relu_net([[-0.6, 2.5], [0.4, 0.5]], [-0.6, 0.1])
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    i = int(np.flatnonzero(res.table().stability == "saddle")[0])
    x_star = res.orbits[i][0]
    assert np.all(x_star > 0)
    system = plrnn.pl_system(p, cfg, U)
    m = mnd.grow_manifold(system, res.orbits[i], "stable", rng=0, radius=20, n_steps=10)
    assert m.dimension == 1 and m.n_regions >= 3 and m.folds == 0
    n = left_unstable_normal(A_of(p.W, cfg.alpha, [1, 1]))
    assert check_pieces_against_plane(p, cfg, m, x_star, n) >= 2
    err, coverage = mnd.invariance_error(system, m, rng=1)
    assert err < 1e-12 and coverage == 1.0


def test_2d_stable_manifold_of_a_3d_map_is_the_plane_and_its_exact_preimages():
    p, cfg = relu_net([[-0.6, 2.5, 1.1], [1.0, 1.3, 0.3], [-0.2, 2.8, 0.4]], [-0.2, -0.8, -0.6])
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    t = res.table()
    i = int(np.flatnonzero((t.stability == "saddle") & (t.n_unstable == 1))[0])
    x_star = res.orbits[i][0]
    assert np.all(x_star > 0)
    system = plrnn.pl_system(p, cfg, U)
    m = mnd.grow_manifold(system, res.orbits[i], "stable", rng=0, radius=20, n_steps=8)
    assert m.dimension == 2 and m.n_regions >= 3
    n = left_unstable_normal(A_of(p.W, cfg.alpha, [1, 1, 1]))
    assert check_pieces_against_plane(p, cfg, m, x_star, n) >= 2
    # the unstable manifold's local piece is the eigenvector of the unstable eigenvalue
    mu = mnd.grow_manifold(system, res.orbits[i], "unstable", rng=0, radius=20, n_steps=4)
    A = A_of(p.W, cfg.alpha, [1, 1, 1])
    lam = max(np.roots(np.poly(A)), key=abs).real
    v = mu.pieces[0].basis[:, 0]
    np.testing.assert_allclose(A @ v, lam * v, atol=1e-10)


def test_saddle_2_cycle_stable_lines_match_the_closed_form():
    p, cfg = relu_net([[-1.1, 2.4], [1.9, -0.6]], [-0.6, -0.4], alpha=0.7)
    res = plrnn.enumerate_cycles(p, cfg, U, period=2)
    t = res.table()
    i = int(np.flatnonzero(t.stability == "saddle")[0])
    orbit, regions = res.orbits[i], res.regions[i]
    system = plrnn.pl_system(p, cfg, U)
    m = mnd.grow_manifold(system, orbit, "stable", regions=regions, rng=0, radius=20, n_steps=10)
    assert m.dimension == 1 and m.n_regions >= 3
    A0, A1 = A_of(p.W, cfg.alpha, regions[0]), A_of(p.W, cfg.alpha, regions[1])
    c = cfg.alpha * p.b
    normals = []
    for j, M in ((0, A1 @ A0), (1, A0 @ A1)):
        (a, b), (cc, d) = M
        tr, det = a + d, a * d - b * cc
        mu_s = (tr - np.sign(tr) * np.sqrt(tr * tr - 4 * det)) / 2  # the root of smaller modulus
        v = np.array([b, mu_s - a]) if abs(b) > 1e-12 else np.array([mu_s - d, cc])
        normals.append(np.array([-v[1], v[0]]) / np.linalg.norm(v))
        local = [pc for pc in m.pieces if pc.generation == 0 and np.allclose(pc.point, orbit[j], atol=1e-12)]
        assert len(local) == 1
        assert abs(abs(normal_of(local[0]) @ normals[j]) - 1) < 1e-10
    n_gen1 = 0
    for pc in m.pieces:
        if pc.generation != 1:
            continue
        Ae = A_of(p.W, cfg.alpha, pc.region)
        ok = [abs(abs(normal_of(pc) @ Ae.T @ n) / np.linalg.norm(Ae.T @ n) - 1) < 1e-10
              and abs(n @ (Ae @ pc.point + c - orbit[j])) < 1e-10 for j, n in enumerate(normals)]
        assert any(ok)
        n_gen1 += 1
    assert n_gen1 >= 1
    err, coverage = mnd.invariance_error(system, m, rng=1)
    assert err < 1e-10 and coverage > 0.9


def random_network_with_saddle(N, rng):
    """A random network (gain 3) with a fixed point x* placed in a random region: b = (x* - A_d x*) / alpha.
    Returns (params, cfg, x*, number of unstable eigenvalues of A_d), redrawn until x* is a saddle."""
    for _ in range(50):
        W = rng.standard_normal((N, N)) * 3 / np.sqrt(N)
        x = rng.choice([-1.0, 1.0], N) * rng.uniform(0.2, 1.0, N)
        A = A_of(W, 0.2, x > 0)
        n_unstable = int(np.sum(np.abs(np.linalg.eigvals(A)) > 1))
        if 0 < n_unstable < N:
            p, cfg = relu_net(W, (x - A @ x) / 0.2)
            return p, cfg, x, n_unstable
    raise AssertionError("no saddle drawn")


def on_manifold_distance(m, Y, source):
    """Distance of each Y[r] to the pieces linked from piece source[r] in the region Y[r] lies in,
    by least squares on each piece's basis."""
    out = np.full(len(Y), np.inf)
    for r, y in enumerate(Y):
        for i, j in m.links:
            pc = m.pieces[j]
            if i != source[r] or not np.all((y > 0) == pc.region):
                continue
            D = y - pc.point
            coef = np.linalg.lstsq(pc.basis, D, rcond=None)[0] if pc.dimension else np.empty(0)
            out[r] = min(out[r], np.linalg.norm(D - pc.basis @ coef))
    return out


@pytest.mark.parametrize("N", [8, 16, 32])
def test_manifolds_of_random_networks_are_invariant(N):
    rng = np.random.default_rng(N)
    p, cfg, x_star, n_unstable = random_network_with_saddle(N, rng)
    system = plrnn.pl_system(p, cfg, U)
    assert plrnn.check_orbit(p, cfg, U, x_star[None]) < 1e-12
    for kind, dim in (("stable", N - n_unstable), ("unstable", n_unstable)):
        m = mnd.grow_manifold(system, x_star[None], kind, rng=0, radius=10,
                              n_steps=6, n_support=32)
        assert m.dimension == dim and m.n_regions >= 2
        use = m.support_step < m.support_step.max() if kind == "unstable" else np.ones(len(m.support), bool)
        X, owner = m.support[use], m.support_piece[use]
        a, b = rng.integers(len(X), size=(2, 200))
        same = owner[a] == owner[b]
        t = rng.random((int(same.sum()), 1))
        pts = t * X[a[same]] + (1 - t) * X[b[same]]  # fresh points of the pieces
        Y = rnn_map(p, cfg, pts, U)
        dist = on_manifold_distance(m, Y, owner[a[same]])
        found = np.isfinite(dist)
        assert found.mean() > 0.5
        assert np.max(dist[found] / np.maximum(1, np.abs(Y[found]).max(axis=1))) < 1e-9
        # the quality measure sees a wrong piece
        err, _ = mnd.invariance_error(system, m, rng=1)
        assert err < 1e-9
        bad = m.pieces[0]
        m.pieces[0] = mnd.Piece(bad.region, bad.point, np.linalg.qr(bad.basis + 0.1 * rng.standard_normal(
            bad.basis.shape))[0], 0)
        assert mnd.invariance_error(system, m, rng=1)[0] > 1e-6


def test_basin_volumes_match_brute_force_and_the_separatrix():
    # winner-take-all: the diagonal separates the two winners' basins (see test_manifolds_pl)
    p, cfg = relu_net([[0.5, -1.0], [-1.0, 0.5]], [1.0, 1.0])
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    rng = np.random.default_rng(0)
    states = rng.uniform(-1, 3, (300, 2)) * [1, 0.8]
    ids, shares, labels = manifolds_pl.basin_volumes(p, cfg, U, states, res)
    stable = res.arrays()["x"]
    x = states.copy()
    for _ in range(400):
        x = rnn_map(p, cfg, x, U)
    brute = np.array([ids[np.argmin(np.linalg.norm(stable[ids[:-1]] - y, axis=1))] for y in x])
    np.testing.assert_array_equal(labels, brute)
    winner_1 = ids[np.argmax(stable[ids[:-1], 0])]
    assert shares[list(ids).index(winner_1)] == pytest.approx(np.mean(states[:, 0] > states[:, 1]))
    assert shares.sum() == pytest.approx(1.0) and shares[-1] == 0


def homoclinic_map():
    """alpha = 1, F(x) = W relu(x) + c: saddle x* = (1, 1) with unstable eigenvector (1, 0.9) (lambda 2)
    and stable eigenvector (1, 1) (mu 1/2). The unstable branch towards the origin crosses the negative
    quadrant, which F maps to the single point c = x* - W x* = x* / 2: on the stable line."""
    S = np.array([[1.0, 1.0], [0.9, 1.0]])
    W = S @ np.diag([2.0, 0.5]) @ np.linalg.inv(S)
    return PLSystem(W=W, alpha=1.0, c=np.array([0.5, 0.5]))


def test_homoclinic_point_found_where_built_and_none_where_absent():
    x_star = np.array([[1.0, 1.0]])
    system = homoclinic_map()
    np.testing.assert_allclose(system.step(x_star[0]), x_star[0], atol=1e-12)
    wu = mnd.grow_manifold(system, x_star, "unstable", rng=0, radius=50)
    ws = mnd.grow_manifold(system, x_star, "stable", rng=0, radius=50)
    table, points = intersections.find_intersections(system, [wu], [ws])
    assert len(table) > 0 and set(table["kind"]) == {"homoclinic"}
    assert np.min(np.linalg.norm(points - [0.5, 0.5], axis=1)) < 1e-10
    assert np.all(np.abs(points[:, 0] - points[:, 1]) < 1e-10)  # all on the stable line
    assert table["approach"].max() < 1e-6 and table["verified"].all()
    # the same saddle with the unstable branch sent to an attractor instead: W^u and W^s meet only at x*
    plain = PLSystem(W=np.diag([2.0, 0.5]), alpha=1.0, c=np.array([-1.0, 0.5]))
    wu = mnd.grow_manifold(plain, x_star, "unstable", rng=0, radius=50)
    ws = mnd.grow_manifold(plain, x_star, "stable", rng=0, radius=50)
    assert len(wu.pieces) >= 2
    table, points = intersections.find_intersections(plain, [wu], [ws])
    assert len(table) == 0


def test_separatrix_on_a_plane_is_the_diagonal_of_the_winner_take_all_map():
    p, cfg = relu_net([[0.5, -1.0], [-1.0, 0.5]], [1.0, 1.0])
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    i = int(np.flatnonzero(res.table().stability == "saddle")[0])
    system = plrnn.pl_system(p, cfg, U)
    m = mnd.grow_manifold(system, res.orbits[i], "stable", rng=0, radius=20)
    segs, owner = mnd.plane_section(m, np.zeros(2), np.eye(2), (-3, 3, -3, 3))
    assert len(segs) >= 1
    np.testing.assert_allclose(segs[:, :, 0], segs[:, :, 1], atol=1e-10)  # on the diagonal
    assert np.any(segs.max(axis=(1, 2)) > 2.9)  # reaches the edge of the plotted box


def boundary_seeds(p, cfg, res, extent=(-3, 3, -3, 3), n=40):
    bm = manifolds_pl.basin_map(p, cfg, U, np.zeros(2), np.eye(2), extent, n, res)
    L, P = bm.labels, bm.points()
    a, b = L[:, 1:] != L[:, :-1], L[1:] != L[:-1]
    return np.concatenate([(P[:, 1:][a] + P[:, :-1][a]) / 2, (P[1:][b] + P[:-1][b]) / 2])


@pytest.mark.parametrize("W, b", [([[0.5, -1.0], [-1.0, 0.5]], [1.0, 1.0]), ([[-0.6, 2.5], [0.4, 0.5]], [-0.6, 0.1])])
def test_separatrix_pieces_through_basin_boundaries_lead_to_the_saddle(W, b):
    p, cfg = relu_net(W, b)
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    saddles = [res.orbits[i] for i in np.flatnonzero(res.table().stability == "saddle")]
    system = plrnn.pl_system(p, cfg, U)
    seeds = boundary_seeds(p, cfg, res)
    segs, owner = mnd.boundary_sections(system, saddles, seeds, np.zeros(2), np.eye(2), 6 / 39)
    assert len(segs) >= 0.5 * len(seeds)
    # brute force: points of every segment run into their saddle (a point off W^s by d gets no closer than ~d)
    X = np.concatenate([segs.mean(axis=1), segs[:, 0] * 0.9 + segs[:, 1] * 0.1])
    target = np.concatenate([np.array(saddles)[owner, 0]] * 2)
    best = np.full(len(X), np.inf)
    for _ in range(1000):
        best = np.minimum(best, np.linalg.norm(X - target, axis=1))
        X = rnn_map(p, cfg, X, U)
    assert best.max() < 1e-9
    if W[0][1] == W[1][0]:  # winner-take-all: the diagonal
        np.testing.assert_allclose(segs[:, :, 0], segs[:, :, 1], atol=1e-10)


def test_dynamics_stage_writes_manifolds_basins_separatrices_and_lyapunov_of_a_relu_network(tmp_path):
    from types import SimpleNamespace

    from altrnn.io import SavedModel
    from altrnn.stages import dynamics
    from altrnn.tasks import make_task

    task = make_task("flipflop", {"n_bits": 2, "T": 30})
    rng = np.random.default_rng(3)
    N = 8
    cfg = ModelConfig(n_in=2, n_rec=N, n_out=2, activation="relu", dtype="float64")
    W = 1.5 * np.eye(N) - np.ones((N, N)) + 0.05 * rng.standard_normal((N, N))  # winner-take-all: N winners
    params = Params(W_in=rng.standard_normal((N, 2)), W=W, b=np.ones(N), W_out=np.zeros((2, N)),
                    b_out=np.zeros(2))
    saved = SavedModel(params, cfg, {})
    settings = {"n_trials": 8, "n_initial": 16, "basin_resolution": 24, "basin_samples": 64, "manifold_steps": 4,
                "manifold_support": 16, "lyapunov_trajectories": 4, "lyapunov_steps": 200, "lyapunov_transient": 50}
    out = SimpleNamespace(**{k: tmp_path / f for k, f in (
        ("points", "fixed_points.csv"), ("point_arrays", "fixed_points.npz"), ("manifolds", "manifolds.csv"),
        ("manifold_arrays", "manifolds.npz"), ("basins", "basins.csv"), ("intersections", "intersections.csv"),
        ("lyapunov", "lyapunov.csv"))})
    points, parrays = dynamics.fixed_point_analysis(saved, task, settings)
    table, arrays, extra = dynamics.manifold_analysis(saved, task, points, parrays, settings)
    summary = table[table["branch"] == -1]
    assert len(summary) > 0 and (summary["invariance_error"] < 1e-9).all()
    saddles = points.index[(points["method"] == "exact") & (points["stability"] == "saddle")]
    assert set(summary["point"]) <= set(saddles)
    assert (summary.groupby("point")["dimension"].sum() == N).all()  # stable + unstable = N (no centre)
    C = len(parrays["condition_names"])
    assert arrays["basin_labels"].shape == (C, 24, 24)
    assert np.allclose(extra["basins"].groupby("condition")["volume"].sum(), 1.0)
    # separatrix segments are exact: their midpoints run into the saddle they belong to
    for seg, r in zip(arrays["separatrix"][:10], arrays["separatrix_point"][:10]):
        x = parrays["pca_mean"] + seg.mean(axis=0) @ parrays["pca_axes"][:2]
        c = points["condition"].iloc[r]
        u = parrays["condition_inputs"][list(parrays["condition_names"]).index(c)]
        best = np.inf
        for _ in range(2000):
            best = min(best, np.linalg.norm(x - parrays["x"][r]))
            x = rnn_map(params, cfg, x, u)
        assert best < 1e-6
    dynamics.dynamics_job("flipflop", {"n_bits": 2, "T": 30}, settings, _saved_model(tmp_path, saved), out)
    lyap = __import__("pandas").read_csv(out.lyapunov)
    assert list(lyap.columns) == dynamics.LYAPUNOV_COLUMNS and len(lyap) == 4 * C
    assert all(p.exists() for p in vars(out).values())


def _saved_model(tmp_path, saved):
    from altrnn.io import save_model

    path = tmp_path / "model.npz"
    save_model(path, saved.params, saved.config, {})
    return path


def test_boundary_points_by_bisection_lie_on_the_winner_take_all_diagonal():
    p, cfg = relu_net([[0.5, -1.0], [-1.0, 0.5]], [1.0, 1.0])
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    stable = [res.orbits[i] for i in np.flatnonzero(res.table().stability == "stable")]
    rng = np.random.default_rng(1)
    a = rng.uniform(-2, 3, (20, 2))
    b = a[:, ::-1] + 0.01  # mirror image: the other side of the diagonal
    x = manifolds_pl.boundary_points(plrnn.pl_system(p, cfg, U), a, b, stable, np.arange(2), n_bisect=30)
    assert np.abs(x[:, 0] - x[:, 1]).max() < 1e-7 * np.abs(a - b).max()


def test_dynamics_stage_copes_with_a_relu_network_without_fixed_points():
    from altrnn.io import SavedModel
    from altrnn.stages import dynamics
    from altrnn.tasks import make_task

    task = make_task("flipflop", {"n_bits": 2, "T": 20})
    N = 4
    cfg = ModelConfig(n_in=2, n_rec=N, n_out=2, activation="relu", dtype="float64")
    params = Params(W_in=np.ones((N, 2)), W=2 * np.eye(N), b=np.ones(N), W_out=np.zeros((2, N)), b_out=np.zeros(2))
    saved = SavedModel(params, cfg, {})  # x -> 1.2 x + 0.2 on the positive orthant: everything diverges
    settings = {"n_trials": 4, "n_initial": 8, "basin_resolution": 8, "lyapunov_trajectories": 2,
                "lyapunov_steps": 20, "lyapunov_transient": 0}
    points, parrays = dynamics.fixed_point_analysis(saved, task, settings)
    table, arrays, extra = dynamics.manifold_analysis(saved, task, points, parrays, settings)
    assert len(table) == 0 and arrays["piece_point"].shape == (0, N) and len(extra["intersections"]) == 0
    assert list(extra["basins"]["attractor"]) == [-1] and extra["basins"]["volume"].iloc[0] == 1.0
