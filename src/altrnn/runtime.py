"""Process set-up for workflow jobs: threads, logging, clear failure messages."""

import logging
import sys

_limits = None  # keeps the BLAS thread limit alive for the life of the process


def configure(threads: int, log_file=None):
    """Use `threads` threads in numba and every BLAS; log to `log_file` and stderr."""
    global _limits
    import numba
    import scipy.linalg.cython_blas  # noqa: F401  load the BLAS numba uses, so the limit reaches it
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    _limits = threadpool_limits(limits=int(threads))
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s",
                        handlers=handlers, force=True)


def run(main, *args):
    """Call main(*args); turn the project's expected failures into one clear message and exit code 1."""
    from .io import ResultFileError
    from .train import TrainingDiverged

    try:
        main(*args)
    except (TrainingDiverged, ResultFileError, ValueError) as exc:
        logging.getLogger("altrnn").error("%s: %s", type(exc).__name__, exc)
        sys.exit(1)
