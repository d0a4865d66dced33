"""The GPU back-end of the track fitter: the CPU kernels, compiled for CUDA.

There is no second implementation of the physics: the CUDA kernel runs :func:`~skymap_scanner.fit.track.fit_row`
(the same function a CPU ``prange`` iteration runs) once per thread, one (direction, seed) fit per thread;
numba compiles that ``@njit`` function and everything it calls (``physics/``: scalar ``math`` calls and
arithmetic, no allocation) as CUDA device functions.

Device choice: ``device="gpu"`` (reco option ``--reco-option device=gpu``), else the environment variable
``SKYMAP_SCANNER_DEVICE`` (``cpu`` | ``gpu``), else the CPU. When a GPU is asked for and numba sees none,
one warning is logged and the CPU kernels are used. Under numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, no GPU needed) the kernel runs as Python threads, each calling the compiled
CPU functions: that checks the launch, the argument passing and the read-back, and is how the GPU path is
tested on machines without one (``tests/test_fit_gpu.py``).
"""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

import numpy as np

LOGGER = logging.getLogger(__name__)

#: environment variable naming the default device ("cpu" or "gpu")
DEVICE_ENV = "SKYMAP_SCANNER_DEVICE"
DEVICES = ("cpu", "gpu")
#: CUDA threads per block (one fit per thread)
THREADS_PER_BLOCK = 64


@cache
def gpu_available() -> bool:
    """Whether numba finds a usable CUDA device (or runs the CUDA simulator)."""
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001 - any import/driver failure means "no GPU"
        return False


def resolve_device(requested: str | None = None) -> str:
    """"cpu" or "gpu": ``requested``, else ``$SKYMAP_SCANNER_DEVICE``, else "cpu"; "gpu" falls back to
    "cpu" with one warning when no CUDA device is available."""
    device = (requested or os.environ.get(DEVICE_ENV) or "cpu").strip().lower()
    if device not in DEVICES:
        raise ValueError(f"unknown fit device {device!r} (choose from {', '.join(DEVICES)})")
    if device == "gpu" and not gpu_available():
        _warn_no_gpu()
        return "cpu"
    return device


@cache
def _warn_no_gpu() -> None:
    LOGGER.warning("fit device 'gpu' requested but numba finds no CUDA GPU: fitting on the CPU")


@cache
def _kernel() -> Any:
    """The CUDA kernel (``fit/_cuda_kernel.py``, imported on first use: importing this module never loads
    numba.cuda)."""
    from skymap_scanner.fit._cuda_kernel import fit_kernel

    return fit_kernel


_DEVICE_TABLES: dict[int, Any] = {}


def _device_table(table: np.ndarray) -> Any:
    """The convolved Pandel table on the device, copied once per (read-only, cached) host table."""
    from numba import cuda

    key = id(table)
    if key not in _DEVICE_TABLES:
        _DEVICE_TABLES[key] = (table, cuda.to_device(np.ascontiguousarray(table)))
    return _DEVICE_TABLES[key][1]


def fit_batch_gpu(pos: np.ndarray, t_hit: np.ndarray, n_ph: np.ndarray, bright: np.ndarray, center: np.ndarray,
                  directions: np.ndarray, seeds: np.ndarray, model: tuple, table: np.ndarray, grid: tuple,
                  max_iter: int, out: np.ndarray) -> None:
    """:func:`~skymap_scanner.fit.track._fit_batch` on the GPU: same arguments, fills ``out`` (F, 6)."""
    from numba import cuda

    n = out.shape[0]
    args = [cuda.to_device(np.ascontiguousarray(a)) for a in (pos, t_hit, n_ph, bright, center, directions, seeds)]
    d_table = _device_table(table)
    d_out = cuda.device_array_like(out)
    blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    _kernel()[blocks, THREADS_PER_BLOCK](*args, tuple(float(m) for m in model), d_table,
                                         tuple(float(g) for g in grid), int(max_iter), d_out)
    d_out.copy_to_host(out)
