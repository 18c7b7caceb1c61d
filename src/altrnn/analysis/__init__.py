"""Analysis of trained networks.

Dynamics of one network: stability (the network as a map, its Jacobian,
stability classes), fixed_points (fixed and slow points by optimisation),
plrnn (exact fixed points and cycles of ReLU networks), manifolds_pl (their
invariant manifolds and basins), skeleton (where the unstable manifolds of a
smooth network's saddles lead).

Comparison of networks: similarity (linear predictability, CKA, RSA,
Procrustes, and the METRICS registry), dsa (Dynamical Similarity Analysis),
mds (classical MDS), degeneracy (behaviour, dynamics, weights).
"""
