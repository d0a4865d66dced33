"""Why a scan cannot finish."""


class ScanError(RuntimeError):
    """The scan cannot finish."""


class ScanTimeoutError(ScanError):
    """No result arrived for longer than the idle timeout."""


class ScanKilledError(ScanError):
    """The kill switch stopped the scan; its state is checkpointed for a later resume."""
