"""The recurrent-noise generator (kernels.normal_fill): against an independent numpy Box-Muller on the
same bits, a known SplitMix64 output, moments, a KS test, correlations, keys and thread counts."""

import numba
import numpy as np
import pytest
from scipy import stats

from altrnn.model import ModelConfig, recurrent_noise
from altrnn.model import kernels
from altrnn.train.trainer import batch_rng

U64 = np.uint64


def reference(key, T, B, N):
    """Box-Muller with numpy's log, cos and sin on the bits SplitMix64 gives each (row, pair) counter."""
    h = (N + 1) // 2
    c = np.arange(T * B, dtype=U64)[:, None] * U64(h) + np.arange(h, dtype=U64)
    with np.errstate(over="ignore"):
        z = U64(key) + c * U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
        z ^= z >> U64(31)
    u = ((z >> U64(32)).astype(float) + 0.5) / 2**32
    low = z & U64(2**32 - 1)
    theta = np.pi / 2 * (((low & U64(2**30 - 1)).astype(float) + 0.5) / 2**30 - 0.5 + (low >> U64(30)).astype(float))
    r = np.sqrt(-2 * np.log(u))
    return np.concatenate([r * np.cos(theta), (r * np.sin(theta))[:, : N - h]], axis=1).reshape(T, B, N)


def fill(key, shape, dtype):
    return kernels.normal_fill(U64(key), np.empty(shape, dtype=dtype))


def test_mix64_is_splitmix64():
    """Known outputs of SplitMix64 seeded with 1234567 (state advanced by GAMMA before each output)."""
    with np.errstate(over="ignore"):
        out = [int(kernels.mix64(U64(1234567) + U64(k) * kernels.GAMMA)) for k in (1, 2, 3)]
    assert out == [6457827717110365317, 3203168211198807973, 9817491932198370423]


@pytest.mark.parametrize("N", [64, 7, 1])
def test_matches_box_muller_on_the_same_bits(N):
    exact = reference(12345, 30, 9, N)
    got64 = fill(12345, (30, 9, N), np.float64)
    got32 = fill(12345, (30, 9, N), np.float32)
    assert np.abs(got64 - exact).max() < 1e-10
    # float32 arithmetic: within 2 ulp of the largest values, about 1e-7 relative elsewhere
    assert np.all(np.abs(got32 - exact) <= 2 * np.spacing(np.float32(np.abs(exact).max())) + 1e-7 * np.abs(exact))
    assert np.abs(exact).max() > 3  # the tails are exercised


@pytest.fixture(scope="module", params=["float32", "float64"])
def sample(request):
    return fill(2024, (100, 40, 250), request.param).astype(np.float64)  # 1e6 values


def test_moments(sample):
    n = sample.size
    z = sample.ravel()
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(stats.skew(z)) < 5 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(z)) < 5 * np.sqrt(24 / n)  # excess kurtosis


def test_kolmogorov_smirnov_against_the_normal(sample):
    assert stats.kstest(sample.ravel(), "norm").pvalue > 1e-3
    assert stats.kstest(sample.ravel() * 1.02, "norm").pvalue < 1e-3  # the test sees a 2% scale error


def lag_correlation(x, axis, lag=1):
    a = np.moveaxis(x, axis, 0)
    return np.corrcoef(a[:-lag].ravel(), a[lag:].ravel())[0, 1], a[lag:].size


@pytest.mark.parametrize("axis,lag", [(0, 1), (1, 1), (2, 1), (2, 125)])  # steps, trials, units, the two units of a pair
def test_no_correlation_across_steps_trials_units(sample, axis, lag):
    rho, n = lag_correlation(sample, axis, lag)
    assert abs(rho) < 5 / np.sqrt(n)
    # the bound detects a weak dependence: 5% of the neighbour mixed in
    mixed = sample + 0.05 * np.roll(sample, lag, axis=axis)
    assert abs(lag_correlation(mixed, axis, lag)[0]) > 5 / np.sqrt(n)


def test_keys_seeds_and_iterations_give_other_noise_and_the_same_state_the_same():
    cfg = ModelConfig(n_in=1, n_rec=16, n_out=1, sigma_rec=0.1)
    draws = {(seed, it): recurrent_noise(cfg, (20, 8, 16), batch_rng(seed, it)) for seed in (0, 1) for it in (0, 1)}
    again = recurrent_noise(cfg, (20, 8, 16), batch_rng(1, 1))
    assert again.tobytes() == draws[1, 1].tobytes()
    values = list(draws.values())
    for i in range(len(values)):
        for j in range(i):
            assert abs(np.corrcoef(values[i].ravel(), values[j].ravel())[0, 1]) < 5 / np.sqrt(values[i].size)
    assert not np.array_equal(fill(1, (2, 3, 4), np.float64), fill(2, (2, 3, 4), np.float64))


def test_none_without_noise_or_rng():
    cfg = ModelConfig(n_in=1, n_rec=4, n_out=1, sigma_rec=0.0)
    assert recurrent_noise(cfg, (2, 3, 4), np.random.default_rng(0)) is None
    assert recurrent_noise(ModelConfig(n_in=1, n_rec=4, n_out=1), (2, 3, 4), None) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_the_same_on_one_and_two_threads(dtype):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba runs one thread here")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fill(77, (50, 33, 65), dtype)
        numba.set_num_threads(2)
        two = fill(77, (50, 33, 65), dtype)
    finally:
        numba.set_num_threads(before)
    assert one.tobytes() == two.tobytes()
