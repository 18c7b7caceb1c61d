"""Numba kernel of the INSD penalty: one pass that centres rates into float64 and float32 stacks."""

import numpy as np
from numba import njit


@njit(cache=True, fastmath={"reassoc"})
def centre_into(a, out, out32, start, Qt):
    """Centre a into columns start.. of out (float64) and out32 (float32); return (||a_c||^2, ||a_c Qt^T||^2).

    a (M, n) in any float dtype; out and out32 (M, >= start + n) C-ordered
    stacks; Qt (k, n) float64, k = 0 for no projection. The float64 copy feeds
    the Gram matrices, the float32 one the product back to float32 rates; the
    second sum gives ||a_c P||^2 for P = I - Qt^T Qt without another pass over
    the M rows. Sums are accumulated in float64, reassociated so that the loops
    vectorise (only the rounding depends on the order). Each row is centred
    into a buffer first: the stacks are written once, contiguously.
    """
    M, n = a.shape
    mean = np.zeros(n)
    for i in range(M):
        for j in range(n):
            mean[j] += a[i, j]
    mean /= M
    squares = np.zeros(n)
    row = np.empty(n)
    projected = 0.0
    for i in range(M):
        for j in range(n):
            v = np.float64(a[i, j]) - mean[j]
            row[j] = v
            squares[j] += v * v
        o, o32 = out[i], out32[i]
        for j in range(n):
            o[start + j] = row[j]
            o32[start + j] = np.float32(row[j])
        for q in range(Qt.shape[0]):
            p = 0.0
            for j in range(n):
                p += row[j] * Qt[q, j]
            projected += p * p
    return squares.sum(), projected
