"""Process set-up for workflow jobs: threads, logging, clear failure messages."""

import logging
import sys

_limits = None  # keeps the BLAS thread limit alive for the life of the process


def configure(threads: int, log_file=None, numerics: bool = True):
    """Use `threads` threads in numba and every BLAS; log to `log_file` (else stderr).

    Progress goes to the job's log file only, so that parallel jobs do not
    flood the console; failures are printed to stderr as well (see run).
    numerics=False (jobs that only draw or tabulate) sets up logging alone and
    skips loading numba and the BLAS libraries.
    """
    global _limits
    if numerics:
        import numba
        import scipy.linalg.cython_blas  # noqa: F401  load the BLAS numba uses, so the limit reaches it
        from threadpoolctl import threadpool_limits

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
        _limits = threadpool_limits(limits=int(threads))
    handlers = [logging.FileHandler(log_file, mode="w") if log_file else logging.StreamHandler(sys.stderr)]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s",
                        handlers=handlers, force=True)


def run(main, *args):
    """Call main(*args); any failure ends the job with exit code 1 and one line on stderr.

    The project's expected failures (a bad value, a damaged result file, a
    diverging run) and system errors (a full disk, a missing permission) are
    that one line, in the job's log too; anything else also leaves its
    traceback in the log, and the line says so.
    """
    from ..errors import ResultFileError, TrainingDiverged

    log = logging.getLogger("altrnn")
    try:
        main(*args)
    except (TrainingDiverged, ResultFileError, ValueError, OSError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        log.error(message)
    except Exception as exc:  # a bug: keep the traceback, but in the log
        log.exception("unexpected failure")
        message = f"{type(exc).__name__}: {exc} (traceback in {_log_file() or 'the log'})"
    else:
        return
    print(message, file=sys.stderr)
    sys.exit(1)


def _log_file():
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return None
