"""The project's expected failures: each is reported as one line naming what is wrong."""


class ResultFileError(RuntimeError):
    """A result file is missing, truncated or not what it claims to be."""


class TrainingDiverged(RuntimeError):
    """The loss or gradient became NaN or infinite, or the loss grew without bound."""
