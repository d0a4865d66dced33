"""Why a scan cannot finish."""


class ScanError(RuntimeError):
    """The scan cannot finish."""


class ScanTimeoutError(ScanError):
    """No result arrived for longer than the idle timeout."""


class ScanKilledError(ScanError):
    """The kill switch stopped the scan; its state is checkpointed for a later resume."""


class ScanInterruptedError(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped the scan; its state is checkpointed when the scan keeps checkpoints.
    A :class:`KeyboardInterrupt`, so code that stops on Ctrl-C still does."""
