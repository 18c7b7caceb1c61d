"""Benchmark chaotic flows for dynamical-systems reconstruction, simulated with scipy's solve_ivp.

Lorenz-63:  dx/dt = sigma (y - x),  dy/dt = x (rho - z) - y,  dz/dt = x y - beta z
            (sigma, rho, beta) = (10, 28, 8/3): the butterfly attractor.
Rössler:    dx/dt = -y - z,  dy/dt = x + a y,  dz/dt = b + z (x - c)
            (a, b, c) = (0.2, 0.2, 5.7): the one-scroll (band) attractor.

`simulate` integrates from a random start near the attractor, drops a transient, and samples every dt: the
(T, 3) time series the reconstruction measures (analysis.dsr_metrics) compare.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

LORENZ63 = {"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0}
ROSSLER = {"a": 0.2, "b": 0.2, "c": 5.7}


def lorenz63(t, s, sigma=LORENZ63["sigma"], rho=LORENZ63["rho"], beta=LORENZ63["beta"]):
    """The Lorenz-63 vector field at state s (3, ...)."""
    x, y, z = s
    return np.array([sigma * (y - x), x * (rho - z) - y, x * y - beta * z])


def rossler(t, s, a=ROSSLER["a"], b=ROSSLER["b"], c=ROSSLER["c"]):
    """The Rössler vector field at state s (3, ...)."""
    x, y, z = s
    return np.array([-y - z, x + a * y, b + z * (x - c)])


SYSTEMS = {"lorenz63": (lorenz63, LORENZ63, 0.01), "rossler": (rossler, ROSSLER, 0.05)}  # field, params, dt


def fixed_points(name: str, **params) -> np.ndarray:
    """The equilibria in closed form, (K, 3): Lorenz-63 the origin and C+-, Rössler its two equilibria."""
    if name == "lorenz63":
        p = {**LORENZ63, **params}
        if p["rho"] <= 1:
            return np.zeros((1, 3))
        r = np.sqrt(p["beta"] * (p["rho"] - 1))
        return np.array([[0.0, 0.0, 0.0], [r, r, p["rho"] - 1], [-r, -r, p["rho"] - 1]])
    if name == "rossler":
        p = {**ROSSLER, **params}
        disc = p["c"] ** 2 - 4 * p["a"] * p["b"]
        xs = [(p["c"] - np.sqrt(disc)) / 2, (p["c"] + np.sqrt(disc)) / 2] if disc >= 0 else []
        return np.array([[x, -x / p["a"], x / p["a"]] for x in xs]).reshape(-1, 3)
    raise ValueError(f"system must be one of {sorted(SYSTEMS)}, got {name!r}")


def simulate(name: str, T: int, dt: float | None = None, transient: float = 50.0, seed: int = 0,
             x0=None, rtol: float = 1e-10, atol: float = 1e-10, **params) -> np.ndarray:
    """T states (T, 3) sampled every dt (default 0.01 Lorenz-63, 0.05 Rössler) after `transient` time units.

    The start is x0, or a random point near (1, 1, 1) drawn from seed; integration by DOP853 (8th-order
    Runge-Kutta) with the given tolerances, so that samples are accurate far beyond what the measures resolve.
    """
    if name not in SYSTEMS:
        raise ValueError(f"system must be one of {sorted(SYSTEMS)}, got {name!r}")
    field, defaults, default_dt = SYSTEMS[name]
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(f"{name} has parameters {sorted(defaults)}, got unknown {sorted(unknown)}")
    dt = default_dt if dt is None else dt
    if T < 1 or dt <= 0 or transient < 0:
        raise ValueError(f"need T >= 1, dt > 0 and transient >= 0, got T = {T}, dt = {dt}, transient = {transient}")
    p = {**defaults, **params}
    start = np.ones(3) + 0.1 * np.random.default_rng(seed).standard_normal(3) if x0 is None else np.asarray(x0, float)
    t_eval = transient + dt * np.arange(T)
    sol = solve_ivp(lambda t, s: field(t, s, **p), (0.0, t_eval[-1]), start, method="DOP853", t_eval=t_eval,
                    rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"{name}: integration failed: {sol.message}")
    return sol.y.T
