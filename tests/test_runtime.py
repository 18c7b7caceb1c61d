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
