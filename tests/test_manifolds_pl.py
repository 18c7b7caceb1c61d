"""Invariant manifolds and basins of 2-D ReLU maps whose saddles and separatrices are known by hand."""

import numpy as np
import pytest

from altrnn.analysis import manifolds_pl as mpl
from altrnn.analysis import plrnn
from altrnn.analysis.stability import rnn_map
from altrnn.model.network import ModelConfig, Params

U = np.zeros(1)
A = 0.2


def relu_net(W, h, alpha=A):
    W = np.asarray(W, dtype=np.float64)
    N = len(W)
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="relu", alpha=alpha, dtype="float64")
    return Params(W_in=np.zeros((N, 1)), W=W, b=np.asarray(h, dtype=np.float64), W_out=np.zeros((1, N)),
                  b_out=np.zeros(1)), cfg


def winner_take_all(w0=0.5, w1=1.0, h0=1.0):
    """Two units with self-excitation w0 and mutual inhibition w1, equal drive h0.

    Region (1, 1): x* = h0 / (1 - w0 + w1) (1, 1), W has eigenvector (1, 1) with w0 - w1 and
    (1, -1) with w0 + w1, so the map has 1 - a + a (w0 -+ w1) there. With w0 < 1 < w0 + w1 the
    winners (h0 / (1 - w0), h0 - w1 h0 / (1 - w0)) and its mirror image are stable. The swap of
    the units commutes with F, so the diagonal is invariant: it is the saddle's stable manifold
    and the separatrix (x1 - x2 keeps its sign under F).
    """
    return relu_net([[w0, -w1], [-w1, w0]], [h0, h0])


def dist_to_polyline(pts, P):
    """Distance of each point (M, N) to the polyline P (K, N)."""
    a, b = P[:-1], P[1:]
    ab = b - a
    L2 = np.maximum(np.sum(ab ** 2, axis=1), 1e-300)
    out = []
    for x in np.atleast_2d(pts):
        t = np.clip(np.sum((x - a) * ab, axis=1) / L2, 0, 1)
        out.append(np.min(np.linalg.norm(a + t[:, None] * ab - x, axis=1)))
    return np.array(out)


def leading_run(branch, region):
    """The points of a branch from the saddle on, up to its first exit from `region`."""
    inside = np.all((branch > 0) == region, axis=1)
    n = np.argmin(inside) if not inside.all() else len(inside)
    return branch[:n]


@pytest.fixture(scope="module")
def wta():
    p, cfg = winner_take_all()
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    return p, cfg, res


def test_saddle_and_winners_match_the_hand_computation(wta):
    p, cfg, res = wta
    t = res.table()
    x = res.arrays()["x"]
    saddle = x[t.stability == "saddle"]
    assert len(saddle) == 1
    np.testing.assert_allclose(saddle[0], [2 / 3, 2 / 3], atol=1e-12)
    np.testing.assert_allclose(np.sort(res.arrays()["eigvals"][t.stability == "saddle"][0].real),
                               [1 - A + A * (0.5 - 1.0), 1 - A + A * (0.5 + 1.0)], atol=1e-12)
    stable = x[t.stability == "stable"]
    assert same_points(stable, np.array([[2.0, -1.0], [-1.0, 2.0]]), 1e-12)


def same_points(a, b, tol):
    return len(a) == len(b) and all(np.min(np.linalg.norm(b - x, axis=1)) < tol for x in a)


def test_unstable_manifold_of_the_winner_take_all_saddle(wta):
    p, cfg, res = wta
    xs = np.array([2 / 3, 2 / 3])
    m = mpl.unstable_manifold(p, cfg, U, xs, n_iter=400)
    assert m.eigval == pytest.approx(1 + A * 0.5, abs=1e-12)
    assert abs(abs(m.direction @ np.array([1, -1]) / np.sqrt(2)) - 1) < 1e-12
    ends = []
    for br in m.branches:
        np.testing.assert_allclose(br[0], xs, atol=1e-12)
        run = leading_run(br, np.array([True, True]))
        assert len(run) > 5 and np.max(np.sum(run, axis=1)) - np.min(np.sum(run, axis=1)) < 1e-12  # x1 + x2 = 4/3
        ends.append(br[-1])
    # the two branches are heteroclinic orbits to the two winners, one each
    assert same_points(np.array(ends), np.array([[2.0, -1.0], [-1.0, 2.0]]), 1e-6)


def test_stable_manifold_is_the_diagonal_and_converges(wta):
    p, cfg, res = wta
    xs = np.array([2 / 3, 2 / 3])
    m = mpl.stable_manifold(p, cfg, U, xs, n_iter=60)
    assert m.eigval == pytest.approx(1 - A + A * (0.5 - 1.0), abs=1e-12)
    pts = np.concatenate(m.branches)
    assert np.all(np.linalg.norm(np.diff(pts, axis=0), axis=1) > 0)  # no repeated points
    assert np.max(np.abs(pts[:, 0] - pts[:, 1]) / np.maximum(1, np.abs(pts).max(axis=1))) < 1e-14
    assert pts[:, 0].max() > 10 and pts[:, 0].min() < -10  # it leaves the saddle's region through (0, 0)
    # points on the computed manifold converge to the saddle under the network's own map
    for x in pts[np.linalg.norm(pts - xs, axis=1) < 5][::5]:
        for _ in range(150):
            x = rnn_map(p, cfg, x, U)
        assert np.linalg.norm(x - xs) < 1e-8


ASYM_W = np.array([[1.2, 0.3], [0.4, 0.5]])
ASYM_X = np.array([1.0, 2.0])


def test_asymmetric_saddle_manifolds_are_its_eigenlines():
    """A saddle in region (1, 1) with x* = (1, 2) and non-orthogonal eigenvectors, all worked out by hand.

    h = (I - W) x* = (-0.8, 0.6). W has trace 1.7 and determinant 0.48, eigenvalues
    (1.7 +- sqrt(0.97)) / 2 with eigenvectors (0.3, lambda - 1.2); the map has 1 - a + a lambda.
    """
    p, cfg = relu_net(ASYM_W, [-0.8, 0.6])
    lam_w = (1.7 + np.array([1, -1]) * np.sqrt(0.97)) / 2
    vecs = np.array([[0.3, lw - 1.2] for lw in lam_w])
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    t = res.table()
    i = int(np.flatnonzero(res.arrays()["region"].all(axis=1))[0])
    np.testing.assert_allclose(res.arrays()["x"][i], ASYM_X, atol=1e-12)
    assert t.stability[i] == "saddle" and t.max_modulus[i] == pytest.approx(1 - A + A * lam_w[0], abs=1e-12)
    for kind, v, lam in (("unstable", vecs[0], lam_w[0]), ("stable", vecs[1], lam_w[1])):
        f = mpl.unstable_manifold if kind == "unstable" else mpl.stable_manifold
        m = f(p, cfg, U, ASYM_X, n_iter=60)
        assert m.eigval == pytest.approx(1 - A + A * lam, abs=1e-12)
        for br in m.branches:
            run = leading_run(br, np.array([True, True]))
            assert len(run) > 5
            d = run - ASYM_X
            cross = d[:, 0] * v[1] - d[:, 1] * v[0]  # 0 on the line x* + s v
            assert np.max(np.abs(cross)) < 1e-12 * max(1, np.abs(run).max())


def test_unstable_manifold_is_invariant_and_matches_simulation():
    """Beyond the saddle's region the manifold is a bent polyline: check it against the map itself."""
    p, cfg = relu_net(ASYM_W, [-0.8, 0.6])
    m = mpl.unstable_manifold(p, cfg, U, ASYM_X, n_iter=400, max_length=50)
    # one branch runs off to infinity inside region (1, 1), the other bends into region (0, 1) and ends at
    # the stable point there, x = h_1 / (1 - w_11) ... solved: x = (-0.44, 1.2)
    assert sorted(m.stopped) == ["converged", "length"]
    bent = m.branches[m.stopped.index("converged")]
    np.testing.assert_allclose(bent[-1], [-0.44, 1.2], atol=1e-9)
    assert np.any(~np.all(bent > 0, axis=1))
    for br in m.branches:
        head = br[: len(br) * 2 // 3]
        # invariance: F maps the curve into itself, exactly up to rounding
        assert np.max(dist_to_polyline(rnn_map(p, cfg, head, U), br)) < 1e-10 * max(1, np.abs(br).max())
        # an orbit started 1e-9 from the saddle along the branch follows the curve
        x = ASYM_X + 1e-9 * np.sign((br[1] - br[0]) @ m.direction) * m.direction
        orbit = []
        for _ in range(2000):
            x = rnn_map(p, cfg, x, U)
            if np.abs(x).max() > np.abs(head).max():
                break
            orbit.append(x)
        orbit = np.array(orbit)
        orbit = orbit[np.linalg.norm(orbit - ASYM_X, axis=1) > 1e-3]
        assert len(orbit) > 10 and np.max(dist_to_polyline(orbit, br)) < 1e-6


def test_exact_image_and_preimage_of_a_polyline():
    """A segment crossing switching lines is split there; its preimage walk gives back the segment."""
    p, cfg = relu_net(ASYM_W, [-0.8, 0.6])
    system = plrnn.pl_system(p, cfg, U)
    P = np.array([[-1.0, -0.8], [2.0, 1.0], [1.5, 3.0]])
    S = mpl.split_at_boundaries(P)
    np.testing.assert_allclose(S[1:3], [[0.0, -0.2], [1 / 3, 0.0]], atol=1e-15)  # x1 = 0, then x2 = 0
    assert len(S) == len(P) + 2 and S[1, 0] == 0.0 and S[2, 1] == 0.0
    corner = mpl.split_at_boundaries(np.array([[-1.0, -0.5], [2.0, 1.0]]))  # through the origin: one point
    np.testing.assert_array_equal(corner[1], [0.0, 0.0])
    assert len(corner) == 3
    # dense samples of the exact image agree with the map applied to dense samples of P
    t = np.linspace(0, 1, 101)[:, None]
    dense = np.concatenate([P[0] + t * (P[1] - P[0]), P[1] + t * (P[2] - P[1])])
    img = mpl.image(system, P)
    assert np.max(dist_to_polyline(rnn_map(p, cfg, dense, U), img)) < 1e-13
    back, status = mpl.preimage(system, img, P[0])
    assert status == "ok"
    assert np.max(dist_to_polyline(back, P)) < 1e-12 and np.max(dist_to_polyline(dense, back)) < 1e-12
    # a fold: with a = 1 and one unit, F(x) = -relu(x) is not invertible across x = 0
    q, qcfg = relu_net([[-1.0]], [0.0], alpha=1.0)
    _, status = mpl.preimage(plrnn.pl_system(q, qcfg, U), np.array([[-1.0], [1.0]]), np.array([1.0]))
    assert status in ("fold", "singular")


def test_basin_boundary_is_the_stable_manifold(wta):
    p, cfg, res = wta
    b = mpl.basin_map(p, cfg, U, origin=np.zeros(2), basis=np.eye(2), extent=(-3, 4, -2.5, 3.5),
                      resolution=(36, 31), attractors=res)
    assert b.labels.shape == (31, 36)
    pts = b.points()
    x = res.arrays()["x"]
    winner1 = int(res.table().point[np.argmin(np.linalg.norm(x - [2, -1], axis=1))])
    winner2 = int(res.table().point[np.argmin(np.linalg.norm(x - [-1, 2], axis=1))])
    diff = pts[..., 0] - pts[..., 1]
    assert np.all(b.labels[diff > 1e-9] == winner1) and np.all(b.labels[diff < -1e-9] == winner2)
    assert np.all(b.steps[np.abs(diff) > 1e-9] < 5000)
    # where neighbouring labels differ, the computed stable manifold passes between the two cells
    m = mpl.stable_manifold(p, cfg, U, np.array([2 / 3, 2 / 3]), n_iter=60)
    sep = np.concatenate([m.branches[0][::-1], m.branches[1][1:]])
    h = np.hypot(b.s1[1] - b.s1[0], b.s2[1] - b.s2[0])
    edge = (b.labels[:, 1:] != b.labels[:, :-1]) & (b.labels[:, 1:] >= 0) & (b.labels[:, :-1] >= 0)
    assert edge.sum() > 20
    assert np.max(dist_to_polyline(pts[:, 1:][edge], sep)) <= h


def test_basins_of_an_asymmetric_competition_follow_the_computed_separatrix():
    """Unequal inhibition bends the separatrix out of the diagonal; the basin edge follows the computed curve."""
    p, cfg = relu_net([[0.5, -1.4], [-0.8, 0.3]], [1.0, 0.8])
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    t = res.table()
    assert (t.stability == "stable").sum() == 2 and (t.stability == "saddle").sum() == 1
    saddle = res.arrays()["x"][t.stability == "saddle"][0]
    m = mpl.stable_manifold(p, cfg, U, saddle, n_iter=60)
    sep = np.concatenate([m.branches[0][::-1], m.branches[1][1:]])
    step = np.diff(sep, axis=0)
    angle = np.arctan2(step[:, 1], step[:, 0]) % np.pi
    assert np.ptp(angle) > 0.05  # bent, not one line
    # every vertex of the bent curve, in any region, is carried to the saddle by the network's own map
    far = sep[(np.linalg.norm(sep - saddle, axis=1) > 0.1) & (np.abs(sep).max(axis=1) < 6)]
    assert len(far) > 10 and np.any(np.all(far < 0, axis=1))
    for x in far:
        closest = np.inf
        for _ in range(400):
            x = rnn_map(p, cfg, x, U)
            closest = min(closest, np.linalg.norm(x - saddle))
        assert closest < 1e-7
    b = mpl.basin_map(p, cfg, U, np.zeros(2), np.eye(2), (-3, 4, -3, 4), 40, res)
    h = np.hypot(b.s1[1] - b.s1[0], b.s2[1] - b.s2[0])
    pts = b.points()
    assert set(np.unique(b.labels)) >= set(t.point[t.stability == "stable"])
    for lab, nb in ((b.labels[:, 1:], b.labels[:, :-1]), (b.labels[1:], b.labels[:-1])):
        edge = (lab != nb) & (lab >= 0) & (nb >= 0)
        assert edge.sum() > 10
        here = pts[:, 1:] if lab.shape[1] < b.labels.shape[1] else pts[1:]
        assert np.max(dist_to_polyline(here[edge], sep)) <= h


def test_bad_input_is_named(wta):
    p, cfg, res = wta
    stable = res.arrays()["x"][res.table().stability == "stable"][0]
    with pytest.raises(ValueError, match="unstable eigenvalue"):
        mpl.unstable_manifold(p, cfg, U, stable)
    with pytest.raises(ValueError, match="not a point of a 1-cycle"):
        mpl.stable_manifold(p, cfg, U, np.array([0.3, 0.1]))
    with pytest.raises(ValueError, match="basis"):
        mpl.basin_map(p, cfg, U, np.zeros(2), np.eye(3), (-1, 1, -1, 1), 5, res)
    with pytest.raises(ValueError, match="extent"):
        mpl.basin_map(p, cfg, U, np.zeros(2), np.eye(2), (1, -1, -1, 1), 5, res)
    with pytest.raises(ValueError, match="resolution"):
        mpl.basin_map(p, cfg, U, np.zeros(2), np.eye(2), (-1, 1, -1, 1), 0, res)


def test_manifolds_of_a_saddle_two_cycle():
    """p = (1, -1) <-> q = (-1, 1.5) with weights set by hand (a = 0.5, h = (-0.5, -0.5)):
    W = [[-2.5, 7/3], [4.5, -2]], and A_q A_p has eigenvalues of modulus about 1.95 and 0.05."""
    a, P, Q, h = 0.5, np.array([1.0, -1.0]), np.array([-1.0, 1.5]), np.array([-0.5, -0.5])
    W = np.array([[-2.5, 7 / 3], [4.5, -2.0]])
    p, cfg = relu_net(W, h, alpha=a)
    np.testing.assert_allclose(rnn_map(p, cfg, np.array([P, Q]), U), [Q, P], atol=1e-14)
    res = plrnn.find_cycles(p, cfg, U, None, max_period=2, rng=0)
    row = res.table()[res.table().period == 2]
    assert len(row) == 1 and row.stability.iloc[0] == "saddle"
    M = ((1 - a) * np.eye(2) + a * W * [0, 1]) @ ((1 - a) * np.eye(2) + a * W * [1, 0])
    vals, vecs = np.linalg.eig(M)
    F2 = lambda x: rnn_map(p, cfg, rnn_map(p, cfg, x, U), U)  # noqa: E731
    for kind, f, j in (("unstable", mpl.unstable_manifold, np.argmax(np.abs(vals))),
                       ("stable", mpl.stable_manifold, np.argmin(np.abs(vals)))):
        m = f(p, cfg, U, P, period=2, n_iter=30, max_length=20)
        assert m.eigval == pytest.approx(vals[j].real, rel=1e-12)
        for br in m.branches:
            run = leading_run(br, np.array([True, False]))
            assert len(run) > 3
            d = run - P
            assert np.max(np.abs(d[:, 0] * vecs[1, j] - d[:, 1] * vecs[0, j])) < 1e-12  # on the eigenline
            if kind == "unstable":  # F^2 maps the curve into itself
                head = br[: len(br) // 2]
                assert np.max(dist_to_polyline(F2(head), br)) < 1e-10 * max(1, np.abs(br).max())
            else:  # F^2 carries its points to p
                for x in br[np.linalg.norm(br - P, axis=1) > 1e-3][:20]:
                    closest = np.inf
                    for _ in range(60):
                        x = F2(x)
                        closest = min(closest, np.linalg.norm(x - P))
                    assert closest < 1e-9
