"""altrnn: alternative solutions of task-trained RNNs.

Train leaky rate RNNs on neuroscience tasks with a numba BPTT trainer, find
functionally distinct alternatives with INSD, and analyse and compare them.
"""

__version__ = "0.1.0"
