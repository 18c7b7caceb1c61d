"""Shared fixtures: one real run of the tiny workflow, one trained flip-flop network (read-only)."""

import numpy as np
import pytest
from filelock import FileLock
import scipy.linalg.cython_blas  # noqa: F401  load the BLAS numba uses first, so threadpool_limits reaches it
from threadpoolctl import threadpool_limits
from tiny import TINY, snakemake, write_config

from altrnn.analysis.fixed_points import find_fixed_points, sample_initial_states
from altrnn.model import ModelConfig, forward
from altrnn.tasks import make_task
from altrnn.train import TrainConfig, train


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, worker_id):
    """A finished run of the tiny config (read-only: copy it before changing anything).

    Built once per test session: the first xdist worker to ask builds it in the workers' shared temporary
    directory, under a lock; the others wait and reuse it, or re-raise its failure."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # the session's directory, above each worker's own
    workdir, failed = root / "tiny", root / "tiny.failed"
    with FileLock(root / "tiny.lock"):
        if failed.exists():
            raise AssertionError(f"the tiny run failed in another worker:\n{failed.read_text()}")
        if not (root / "tiny.done").exists():
            workdir.mkdir()
            write_config(workdir, TINY)
            try:
                snakemake(workdir)
            except BaseException as e:
                failed.write_text(str(e) or repr(e))
                raise
            (root / "tiny.done").touch()
    return workdir


@pytest.fixture(scope="session")
def flipflop():
    """A trained 3-bit flip-flop network (N = 24), its visited states and its fixed points under zero input.

    3000 iterations reach a task loss of about 0.03; at 800 (loss 0.1) whether all 8 corners are already
    stable depended on the noise draw (seeds 2, 3 and 4 give 8 at 3000)."""
    with threadpool_limits(1):
        task = make_task("flipflop", {"T": 60})
        cfg = ModelConfig(n_in=3, n_rec=24, n_out=3)
        params = train(task, cfg, TrainConfig(batch_size=32, lr=1e-2, max_iters=3000, log_every=100),
                       g=1.0, seed=2).params
        batch = task.batch(64, np.random.default_rng(0))
        states = forward(params, cfg, batch.inputs).x
        x0 = sample_initial_states(states, 256, 0.1, np.random.default_rng(1))
        fp = find_fixed_points(params, cfg, np.zeros(3), x0, visited=states)
    return params, cfg, states, fp


# The longest test files (real Snakemake studies, SLURM, re-run checks), measured with --durations: started
# first, so that the workers (pyproject: -n 3 --dist loadfile) finish together instead of one waiting on a long
# file at the end. pyproject also sets --no-loadscope-reorder: by default xdist hands out the files with the
# most tests first, whatever this order.
LONGEST_FIRST = ["test_slurm.py", "test_workflow.py", "test_reliability.py", "test_studies.py", "test_user_tasks.py",
                 "test_degeneracy_study.py", "test_insd_tradeoff.py", "test_recordings.py", "test_stress.py",
                 "test_manifolds_nd.py", "test_imported.py", "test_insd_distance.py", "test_hmm_workflow.py"]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept otherwise
