"""Heteroclinic skeleton: unstable directions of hand-made Jacobians, branches of a hand-built
bistable network with a known destination, and the flip-flop network's saddles, whose branches
run along the edges of the output cube to neighbouring corners."""

import numpy as np
import pytest
from scipy.optimize import brentq
from threadpoolctl import threadpool_limits

from altrnn.analysis.fixed_points import describe
from altrnn.analysis.skeleton import TABLE_COLUMNS, unstable_directions, unstable_manifolds
from altrnn.analysis.stability import rnn_map
from altrnn.model import ModelConfig, Params


def test_unstable_directions_of_real_and_complex_spectra():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    J = Q @ np.diag([1.5, -1.2, 0.5, 0.999]) @ Q.T  # two unstable (one flips sign), 0.999 counts as marginal
    dirs, lams = unstable_directions(J)
    np.testing.assert_allclose(lams, [1.5, -1.2])
    for v, lam, q in zip(dirs, lams, Q.T[:2]):
        assert np.linalg.norm(v) == pytest.approx(1.0)
        np.testing.assert_allclose(J @ v, lam.real * v, atol=1e-12)
        assert abs(v @ q) == pytest.approx(1.0)
    c, s = 1.1 * np.cos(0.4), 1.1 * np.sin(0.4)
    J = np.array([[c, -s, 0], [s, c, 0], [0, 0, 0.3]])
    dirs, lams = unstable_directions(J)
    assert len(dirs) == 2 and np.all(lams.imag > 0)  # real and imaginary parts of one pair
    for v in dirs:
        assert abs(v[2]) < 1e-12 and np.linalg.norm(v) == pytest.approx(1.0)  # in the rotating plane
    assert abs(np.linalg.det(dirs[:, :2])) > 0.1  # the two parts span it
    assert unstable_directions(np.diag([0.5, 0.2]))[0].shape == (0, 2)


def bistable():
    """Two decoupled tanh units, W = diag(2, 0.5): a saddle at 0 between stable points (+-r, 0), r = 2 tanh r."""
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=1, activation="tanh", dtype="float64")
    p = Params(W_in=np.zeros((2, 1)), W=np.diag([2.0, 0.5]), b=np.zeros(2), W_out=np.ones((1, 2)),
               b_out=np.zeros(1))
    r = brentq(lambda x: x - 2 * np.tanh(x), 0.5, 5)
    points = describe(p, cfg, np.zeros(1), np.array([[0.0, 0.0], [r, 0.0], [-r, 0.0]]), np.zeros(3),
                      ["fixed"] * 3)
    return p, cfg, points, r


def test_branches_of_a_known_saddle_reach_the_stable_point_on_their_side():
    p, cfg, points, r = bistable()
    sk = unstable_manifolds(p, cfg, np.zeros(1), points, eps=1e-3, tol=1e-6)
    t = sk.table()
    assert list(t.columns) == TABLE_COLUMNS and len(t) == 2
    assert t.saddle.tolist() == [0, 0] and t.direction.tolist() == [0, 0] and sorted(t.sign) == [-1, 1]
    for row in t.itertuples():
        traj = sk.trajectory(row.Index)
        side = np.sign(traj[0, 0])
        assert points.x[row.reaches, 0] == pytest.approx(side * r)
        assert abs(np.linalg.norm(traj[0]) - 1e-3) < 1e-15  # starts eps from the saddle
        assert np.linalg.norm(traj[-1] - points.x[row.reaches]) < 1e-6
        assert len(traj) == row.steps + 1 and row.steps > 10
        np.testing.assert_allclose(traj[1:], rnn_map(p, cfg, traj[:-1], np.zeros(1)), rtol=1e-14)
        assert np.all(np.diff(np.abs(traj[:, 0])) > 0)  # moves monotonically away along the unstable axis
    a = sk.arrays()
    assert set(a) == {"x", "branch", "step"} and a["x"].shape == (t.steps.sum() + 2, 2)
    assert np.array_equal(np.bincount(a["branch"]), t.steps + 1)


def test_branches_end_unreached_without_attractors_or_steps():
    p, cfg, points, _ = bistable()
    sk = unstable_manifolds(p, cfg, np.zeros(1), points, attractors=[], max_steps=5000)
    t = sk.table()
    assert (t.reaches == -1).all() and (t.steps < 5000).all()  # they stall on the stable points, unlisted
    sk = unstable_manifolds(p, cfg, np.zeros(1), points, max_steps=3)
    assert (sk.table().reaches == -1).all() and (sk.table().steps == 3).all()
    no_saddle = describe(p, cfg, np.zeros(1), points.x[1:], np.zeros(2), ["fixed"] * 2)
    empty = unstable_manifolds(p, cfg, np.zeros(1), no_saddle)
    assert len(empty) == 0 and list(empty.table().columns) == TABLE_COLUMNS and empty.arrays()["x"].shape == (0, 2)
    with pytest.raises(ValueError, match="eps"):
        unstable_manifolds(p, cfg, np.zeros(1), points, eps=0.0)
    with pytest.raises(ValueError, match="attractors"):
        unstable_manifolds(p, cfg, np.zeros(1), points, attractors=[7])
    with pytest.raises(ValueError, match="u must"):
        unstable_manifolds(p, cfg, np.zeros(2), points)


@pytest.fixture(scope="module")
def flipflop_skeleton(flipflop):
    """The trained 3-bit flip-flop network (conftest), its points and skeleton."""
    params, cfg, _, fp = flipflop
    with threadpool_limits(1):
        sk = unstable_manifolds(params, cfg, np.zeros(3), fp)
    return params, fp, sk


def test_flipflop_saddle_branches_reach_neighbouring_corners(flipflop_skeleton):
    params, fp, sk = flipflop_skeleton
    t = sk.table()
    t["n_unstable"] = fp.n_unstable[t.saddle]
    stable = np.flatnonzero((fp.kind == "fixed") & (fp.stability == "stable"))
    corner = np.sign(np.tanh(fp.x) @ params.W_out.T + params.b_out)  # output sign pattern of every point
    reached = (t.reaches >= 0).mean()
    one = t[t.n_unstable == 1]
    pairs = one.groupby("saddle").reaches.apply(list)
    distinct = np.mean([len(set(r)) == 2 and -1 not in r for r in pairs])
    edges = np.mean([np.sum(corner[r[0]] != corner[r[1]]) == 1 for r in pairs if -1 not in r])
    print(f"skeleton: {len(t)} branches of {t.saddle.nunique()} saddles, {reached:.2f} reach a stable point; "
          f"{len(pairs)} one-dimensional saddles, {distinct:.2f} of them reach two different corners, "
          f"{edges:.2f} two corners one bit apart")
    # measured: 54 branches of 19 saddles, all reach a stable point; all 12 one-dimensional saddles
    # connect two different corners that differ in exactly one bit (the edges of the cube)
    assert len(pairs) >= 8
    assert reached >= 0.9 and set(t.reaches[t.reaches >= 0]) <= set(stable)
    assert distinct >= 0.8 and edges >= 0.8
    for row in t[t.reaches >= 0].itertuples():
        end = sk.trajectory(row.Index)[-1]
        assert np.linalg.norm(end - fp.x[row.reaches]) < 1e-3
