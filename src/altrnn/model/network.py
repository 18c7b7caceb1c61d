"""The leaky rate RNN: configuration, parameters, forward pass and exact BPTT.

    x[t+1] = (1 - a) x[t] + a (W r[t] + W_in u[t] + b) + sqrt(2a) sigma_rec eta[t]
    r[t] = phi(x[t]),  y[t] = W_out r[t] + b_out,  x[0] = 0

phi is tanh, relu, or, for the almost-linear RNN (AL-RNN, Brenner et al. 2024;
activation "alrnn"), relu on the first n_relu = P units (0..P-1) and the
identity on the other N - P: at most 2^P linear regions. P = N is the ReLU
network, P = 0 a linear one.

Arrays are time-major: inputs (T, B, n_in), states and rates (T+1, B, N) with
row 0 the initial condition, outputs (T, B, n_out) read from r[1..T].

With a = 1 (and sigma_rec = 0) this is the discrete-time vanilla RNN
h_t = tanh(W h_{t-1} + W_in u_t + b) of Huang et al. (2025), with h_t = r[t+1].

Parameterisations. forward and backward always take the *effective* weights,
the ones the network runs with and model.npz stores. Training updates
trainable arrays theta with W_eff = c * theta for one fixed scalar c per array
(`parameter_scales`), so dL/dtheta = c * dL/dW_eff exactly:

    standard:    c = 1 for every array; W ~ N(0, g^2/N), W_in ~ N(0, 1/n_in), W_out ~ N(0, 1/N)
    mean_field:  c_W = 1/sqrt(N), c_in = 1/sqrt(n_in), c_out = 1/(gamma N), c_b = c_bout = 1;
                 theta_W ~ N(0, g^2), theta_in ~ N(0, 1), theta_out ~ N(0, 1)

so in both W_eff ~ N(0, g^2/N) (the recurrent weights' variance scales as 1/N)
and W_in_eff ~ N(0, 1/n_in); only the readout differs: 1/(gamma N) times O(1)
entries, the mean-field (muP-style) readout, whose gain gamma sets how far the
hidden weights must move to change the output, i.e. the strength of feature
learning (see train.trainer for the learning rate, which scales with gamma).
"""

import functools
from contextlib import nullcontext
from dataclasses import dataclass

import numba
import numpy as np

from ..config import ModelSection
from . import kernels
from .kernels import matmul

PARAM_NAMES = ("W_in", "W", "b", "W_out", "b_out")
PARAMETERISATIONS = ("standard", "mean_field")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and dynamics of one network."""

    n_in: int
    n_rec: int
    n_out: int
    activation: str = ModelSection.activation  # defaults: altrnn.config, the one place they live
    alpha: float = ModelSection.alpha
    sigma_rec: float = ModelSection.sigma_rec
    dtype: str = ModelSection.dtype
    parameterisation: str = ModelSection.parameterisation
    gamma: float = ModelSection.gamma
    fast_tanh: bool = ModelSection.fast_tanh
    n_relu: int | None = ModelSection.n_relu  # alrnn: units 0..n_relu-1 are ReLU, the rest linear

    def __post_init__(self):
        if self.activation == "alrnn":
            if self.n_relu is None or not 0 <= self.n_relu <= self.n_rec:
                raise ValueError(f"model.n_relu must be between 0 and n_rec = {self.n_rec} with activation alrnn, "
                                 f"got {self.n_relu!r}")
        elif self.n_relu is not None:
            raise ValueError(f"model.n_relu is only used with activation alrnn, got activation {self.activation!r}")
        if self.parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"model.parameterisation must be one of {list(PARAMETERISATIONS)}, "
                             f"got {self.parameterisation!r}")
        if not self.gamma > 0:
            raise ValueError(f"model.gamma must be > 0, got {self.gamma}")
        if self.parameterisation == "standard" and self.gamma != 1:
            raise ValueError(f"model.gamma must be 1 in the standard parameterisation, got {self.gamma}")
        if self.activation not in kernels.ACTIVATIONS:
            raise ValueError(f"model.activation must be one of {sorted(kernels.ACTIVATIONS)}, got {self.activation!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"model.dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if not 0 < self.alpha <= 1:
            raise ValueError(f"model.alpha must be in (0, 1], got {self.alpha}")
        if self.sigma_rec < 0:
            raise ValueError(f"model.sigma_rec must be >= 0, got {self.sigma_rec}")
        for key in ("n_in", "n_rec", "n_out"):
            if getattr(self, key) < 1:
                raise ValueError(f"model.{key} must be >= 1, got {getattr(self, key)}")

    @property
    def np_dtype(self):
        return np.dtype(self.dtype)

    @property
    def kernel_activation(self):
        """The activation code of the time-loop kernels: kernels.TANH_VEC for a fast float64 tanh,
        kernels.ALRNN + P for an AL-RNN with P ReLU units."""
        if self.fast_tanh and self.activation == "tanh" and self.dtype == "float64":
            return kernels.TANH_VEC
        if self.activation == "alrnn":
            return kernels.ALRNN + self.n_relu
        return kernels.ACTIVATIONS[self.activation]

    @property
    def n_switching(self) -> int:
        """Units that switch between linear regions: P for an AL-RNN, N for relu (the first n_switching units)."""
        return self.n_relu if self.activation == "alrnn" else self.n_rec

    @property
    def piecewise_linear(self) -> bool:
        """relu or alrnn: the network is exactly a piecewise-linear map (analysis.plrnn applies)."""
        return self.activation in ("relu", "alrnn")


@dataclass
class Params:
    """Trainable weights; W[i, j] is the connection from unit j to unit i."""

    W_in: np.ndarray  # (N, n_in)
    W: np.ndarray  # (N, N)
    b: np.ndarray  # (N,)
    W_out: np.ndarray  # (n_out, N)
    b_out: np.ndarray  # (n_out,)

    def arrays(self):
        return [getattr(self, name) for name in PARAM_NAMES]

    def astype(self, dtype):
        return Params(*(np.ascontiguousarray(a, dtype=dtype) for a in self.arrays()))

    def copy(self):
        return Params(*(a.copy() for a in self.arrays()))

    def zeros_like(self):
        return Params(*(np.zeros_like(a) for a in self.arrays()))

    def as_dict(self):
        return {name: getattr(self, name) for name in PARAM_NAMES}


def parameter_scales(cfg: ModelConfig):
    """{name: c} with effective = c * trainable, or None in the standard parameterisation (all c = 1)."""
    if cfg.parameterisation == "standard":
        return None
    N = cfg.n_rec
    return {"W_in": 1 / np.sqrt(cfg.n_in), "W": 1 / np.sqrt(N), "b": 1.0, "W_out": 1 / (cfg.gamma * N), "b_out": 1.0}


def effective_params(trainable: Params, cfg: ModelConfig) -> Params:
    """The weights the network runs with: c * theta per array (the same object when all c are 1)."""
    scales = parameter_scales(cfg)
    if scales is None:
        return trainable
    return Params(*(a * a.dtype.type(scales[n]) for n, a in zip(PARAM_NAMES, trainable.arrays())))


def trainable_params(effective: Params, cfg: ModelConfig) -> Params:
    """The inverse of effective_params: theta = W_eff / c."""
    scales = parameter_scales(cfg)
    if scales is None:
        return effective
    return Params(*(a / a.dtype.type(scales[n]) for n, a in zip(PARAM_NAMES, effective.arrays())))


def trainable_grads(grads: Params, cfg: ModelConfig) -> Params:
    """dL/dtheta = c * dL/dW_eff, in place (chain rule through W_eff = c * theta)."""
    scales = parameter_scales(cfg)
    if scales is not None:
        for name, a in zip(PARAM_NAMES, grads.arrays()):
            if scales[name] != 1.0:
                a *= a.dtype.type(scales[name])
    return grads


def init_params(cfg: ModelConfig, g: float, rng: np.random.Generator) -> Params:
    """Random initial *trainable* weights (see the module docstring); zero biases.

    Standard: W ~ N(0, g^2/N), W_in ~ N(0, 1/n_in), W_out ~ N(0, 1/N). Mean field: the
    same draws divided by their scale c, so that the effective W and W_in are
    distributed as in the standard parameterisation and theta_out ~ N(0, 1).
    """
    N = cfg.n_rec
    p = Params(
        W_in=rng.standard_normal((N, cfg.n_in)) / np.sqrt(cfg.n_in),
        W=rng.standard_normal((N, N)) * (g / np.sqrt(N)),
        b=np.zeros(N),
        W_out=rng.standard_normal((cfg.n_out, N)) / np.sqrt(N),
        b_out=np.zeros(cfg.n_out),
    )
    if cfg.parameterisation == "mean_field":
        p.W_in *= np.sqrt(cfg.n_in)
        p.W *= np.sqrt(N)
        p.W_out *= np.sqrt(N)
    return p.astype(cfg.np_dtype)


@dataclass
class Trajectory:
    """What the forward pass keeps for the backward pass and for analysis."""

    x: np.ndarray  # (T+1, B, N) states
    r: np.ndarray  # (T+1, B, N) rates
    y: np.ndarray  # (T, B, n_out) outputs


class Workspace:
    """Arrays reused from one training iteration to the next.

    Fresh arrays of tens of MB per iteration cost page faults and zeroing;
    the trainer passes one Workspace to every call instead. Arrays handed out
    are overwritten by the next call that asks for the same name, so only
    code that is done with an iteration's results before the next one may
    use it.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype):
        a = self._arrays.get(name)
        if a is None or a.shape != tuple(shape) or a.dtype != dtype:
            a = self._arrays[name] = np.empty(shape, dtype=dtype)
        return a


def _empty(workspace, name, shape, dtype):
    return np.empty(shape, dtype=dtype) if workspace is None else workspace.get(name, shape, dtype)


def recurrent_noise(cfg: ModelConfig, shape, rng: np.random.Generator | None, workspace=None):
    """Standard-normal recurrent noise eta of shape (T, B, N), or None when sigma_rec is 0 or rng is None.

    Drawn by the counter-based generator kernels.normal_fill, keyed by 64 bits from rng:
    the values depend on rng's state only (in training: seed and iteration), not on the
    number of threads.
    """
    if cfg.sigma_rec == 0 or rng is None:
        return None
    key = rng.integers(2**64, dtype=np.uint64)
    return kernels.normal_fill(key, _empty(workspace, "noise", shape, cfg.np_dtype))


def time_loop_blocks(B, N, dtype) -> int:
    """How many blocks of trials the time loops run in parallel: one per numba thread, 16 trials or more each.

    Each block does its own (rows, N) @ (N, N) products with BLAS at one thread. OpenBLAS gives a block of
    rows the same bits as those rows of the whole product for the usual shapes, but not for all (other
    kernels for other sizes); checked once per shape on random operands, and where it differs the loops
    stay in one block, so that results never depend on the thread count.
    """
    return _blocks(numba.get_num_threads(), B, N, np.dtype(dtype))


@functools.cache
def _blocks(threads, B, N, dtype):
    n = min(threads, B // 16)
    while n > 1 and np.diff(kernels.row_bounds(B, n)).min() < 16:
        n -= 1
    return n if n > 1 and blas_rows_agree(B, N, dtype, n) else 1


def blas_rows_agree(B, N, dtype, blocks) -> bool:
    """Whether the BLAS (one thread) gives each of `blocks` blocks of rows of a (B, N) @ (N, N) product the bits
    of those rows of the whole product, on random operands: a property of its kernels for the shape and dtype
    (OpenBLAS's single-precision kernels for some CPUs differ for blocks of 32 rows)."""
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((B, N)).astype(dtype), rng.standard_normal((N, N)).astype(dtype)
    edges = kernels.row_bounds(B, blocks)
    with _one_blas_thread(blocks):
        whole = matmul(a, w)
        return all(np.array_equal(matmul(a[lo:hi], w), whole[lo:hi]) for lo, hi in zip(edges[:-1], edges[1:]))


@functools.cache
def _blas_libraries():
    from threadpoolctl import ThreadpoolController

    matmul(np.ones((1, 1)), np.ones((1, 1)))  # loads the BLAS numba links to, so that the controller finds it
    return ThreadpoolController().select(user_api="blas")


def _product(a, b):
    """a @ b by matmul, with BLAS at one thread if its threaded product of such operands has other bits.

    OpenBLAS cuts the inner dimension into other blocks on several threads than on one for some sizes
    (e.g. an (N, T B) @ (T B, N) weight gradient with N = 50, T B = 1320); checked once per shape and layout.
    """
    threads = max(lib.num_threads for lib in _blas_libraries().lib_controllers)
    same = threads == 1 or _threads_agree(a.shape, b.shape, a.flags.f_contiguous, b.flags.f_contiguous, a.dtype)
    with nullcontext() if same else _one_blas_thread(2):
        return matmul(a, b)


@functools.lru_cache(maxsize=64)
def _threads_agree(shape_a, shape_b, a_fortran, b_fortran, dtype):
    rng = np.random.default_rng(0)
    a, b = (rng.random(s, dtype=np.float32).astype(dtype, order="F" if f else "C")
            for s, f in ((shape_a, a_fortran), (shape_b, b_fortran)))
    threaded = matmul(a, b)
    with _one_blas_thread(2):
        return np.array_equal(threaded, matmul(a, b))


def _one_blas_thread(blocks):
    """BLAS limited to one thread while `blocks` > 1 numba threads call it (else they would oversubscribe the cores)."""
    return _blas_libraries().limit(limits=1) if blocks > 1 else nullcontext()


def forward(params: Params, cfg: ModelConfig, inputs, noise=None, x0=None, workspace=None) -> Trajectory:
    """Run the network on inputs (T, B, n_in); noise (T, B, N) is eta, unscaled."""
    dt = cfg.np_dtype
    T, B, _ = inputs.shape
    N = cfg.n_rec
    u = np.ascontiguousarray(inputs, dtype=dt)
    if noise is None:
        noise = np.empty((0, B, N), dtype=dt)
    x = _empty(workspace, "x", (T + 1, B, N), dt)
    r = _empty(workspace, "r", (T + 1, B, N), dt)
    x[0] = 0 if x0 is None else x0
    r[0] = activation(x[0], cfg.activation, cfg.n_relu)
    noise_scale = np.sqrt(2 * cfg.alpha) * cfg.sigma_rec
    blocks = time_loop_blocks(B, N, dt)
    with _one_blas_thread(blocks):
        kernels.forward_loop(np.ascontiguousarray(params.W.T), np.ascontiguousarray(params.W_in.T), params.b, u,
                             np.asarray(noise, dtype=dt), noise_scale, cfg.alpha, cfg.kernel_activation,
                             x, r, blocks)
    y = _product(r[1:].reshape(T * B, N), params.W_out.T)
    y += params.b_out
    return Trajectory(x=x, r=r, y=y.reshape(T, B, -1))


def backward(params: Params, cfg: ModelConfig, inputs, traj: Trajectory, dy, dr=None, workspace=None) -> Params:
    """Exact gradients of a loss given dL/dy (T, B, n_out) and a direct dL/dr[1..T] (T, B, N)."""
    dt = cfg.np_dtype
    T, B, _ = inputs.shape
    N = cfg.n_rec
    dy = np.ascontiguousarray(dy, dtype=dt)
    dr = np.empty((0, B, N), dtype=dt) if dr is None else np.ascontiguousarray(dr, dtype=dt)
    u = np.ascontiguousarray(inputs, dtype=dt)
    delta = _empty(workspace, "delta", (T, B, N), dt)
    dW_in_T = np.zeros((u.shape[2], N), dtype=dt)
    dW_out = np.zeros_like(params.W_out)
    blocks = time_loop_blocks(B, N, dt)
    with _one_blas_thread(blocks):
        kernels.backward_loop(params.W, params.W_out, traj.x, traj.r, u, dy, dr, cfg.alpha,
                              cfg.kernel_activation, delta, dW_in_T, dW_out, blocks)
    d2 = delta.reshape(T * B, N)
    return Params(
        W_in=dW_in_T.T.copy(),
        W=dt.type(cfg.alpha) * _product(d2.T, traj.r[:-1].reshape(T * B, N)),
        b=dt.type(cfg.alpha) * d2.sum(axis=0),
        W_out=dW_out,
        b_out=dy.reshape(T * B, -1).sum(axis=0),
    )


def activation(x, name, n_relu=None):
    """phi(x) in plain numpy (exact tanh), for analysis code; alrnn needs n_relu (relu on units < n_relu)."""
    if name == "tanh":
        return np.tanh(x)
    if name == "alrnn":
        if n_relu is None:
            raise ValueError("activation alrnn needs n_relu")
        r = np.array(x, dtype=np.result_type(x, np.float32), copy=True)
        np.maximum(r[..., :n_relu], 0, out=r[..., :n_relu])
        return r
    return np.maximum(x, 0)

