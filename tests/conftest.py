"""Shared fixtures: one real run of the tiny workflow for every test that only reads its results."""

import pytest
import scipy.linalg.cython_blas  # noqa: F401  load the BLAS numba uses first, so threadpool_limits reaches it
from tiny import TINY, snakemake, write_config


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished run of the tiny config (read-only: copy it before changing anything)."""
    workdir = tmp_path_factory.mktemp("tiny")
    write_config(workdir, TINY)
    snakemake(workdir)
    return workdir
