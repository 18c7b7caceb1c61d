"""What each workflow job does, in package terms: one module per stage.

    workflow/rules/X.smk -> workflow/scripts/X.py -> altrnn.stages.X -> domain packages

kernels (numba warm-up), train (standard networks and ref), insd (alternatives),
evaluate, dynamics, similarity, degeneracy, insd_distance (how far INSD moves a
network, in natural degeneracies), gaming (similarity measures against
a copy padded with noise units), figures, study (a factor study's
tables and trend figures); runtime sets up a job's threads, logging and errors.
Plain functions of plain values: a notebook can call them as the jobs do.
"""
