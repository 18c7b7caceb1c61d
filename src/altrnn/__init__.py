"""altrnn: alternative solutions of task-trained RNNs.

Train leaky rate RNNs on neuroscience tasks with a numba BPTT trainer, find
functionally distinct alternatives with INSD, and analyse and compare them.
"""

__version__ = "0.1.0"

import os as _os

# numba's parallel kernels run on OpenMP here, whose idle threads spin by default. When the
# machine has other work (two test workers, two workflow jobs, a browser), a spinning thread
# holds a core the other threads need, and every parallel region waits for a time slice:
# measured on 2 cores with one busy, 200 flip-flop iterations at N = 32 took 2.5-6.7 s with
# spinning threads, 0.39 s with passive ones and 0.34 s on one thread. Passive threads sleep
# between regions instead; set OMP_WAIT_POLICY yourself (before importing altrnn) to override.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
