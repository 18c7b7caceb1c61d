"""Job set-up: the thread limit reaches every BLAS, including the one numba's kernels call."""

import json
import subprocess
import sys

PROBE = """
import json
from altrnn.stages import runtime
runtime.configure(1)
import numpy as np
from altrnn.model.kernels import matmul
matmul(np.ones((4, 4)), np.ones((4, 4)))  # the kernels' BLAS is in use now
from threadpoolctl import threadpool_info
print(json.dumps([[d["internal_api"], d["num_threads"]] for d in threadpool_info()]))
"""


def test_configure_limits_every_blas_to_the_job_threads():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    pools = json.loads(out.stdout.strip().splitlines()[-1])
    blas = [n for api, n in pools if api == "openblas"]
    assert len(blas) >= 2  # numpy's and scipy's
    assert all(n == 1 for n in blas), pools


NON_FIGURE_STAGES = ["kernels", "train", "insd", "imported", "evaluate", "dynamics", "similarity", "degeneracy",
                     "insd_distance", "stress", "decoding", "gaming", "study", "recordings", "bifurcations",
                     "symbolic"]
LOADED = "import sys; print(' '.join(m for m in {mods} if m in sys.modules))"


def loaded_after(code, mods):
    probe = f"{code}\n" + LOADED.format(mods=mods)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.split()


def test_job_imports_stay_lazy():
    """Imports are most of a short job's time: analysis jobs never load matplotlib, figure jobs never numba."""
    stages = "\n".join(f"import altrnn.stages.{s}" for s in NON_FIGURE_STAGES)
    assert loaded_after(stages, ["matplotlib", "altrnn.plots", "seaborn"]) == []
    figures = "from altrnn.stages import figures, runtime\nruntime.configure(1, numerics=False)"
    assert loaded_after(figures, ["numba", "seaborn", "scipy.stats", "altrnn.model.network"]) == []
