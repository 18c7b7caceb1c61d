"""Numba kernel of the INSD penalty: one pass that centres rates into a float64 block of a stack."""

import numpy as np
from numba import njit


@njit(cache=True)
def centre_into(a, out):
    """out[:] = a - mean(a, axis=0) in float64 (out may be a Fortran-ordered block); return sum(out**2).

    a is (M, n) in any float dtype, C-ordered. The means are summed in float64;
    rows are copied in blocks so that both a and out are read and written
    in cache-sized pieces whatever out's order.
    """
    M, n = a.shape
    mean = np.zeros(n)
    for i in range(M):
        for j in range(n):
            mean[j] += a[i, j]
    mean /= M
    total = 0.0
    step = 32
    for i0 in range(0, M, step):
        i1 = min(i0 + step, M)
        for j in range(n):
            m = mean[j]
            for i in range(i0, i1):
                v = np.float64(a[i, j]) - m
                out[i, j] = v
                total += v * v
    return total
