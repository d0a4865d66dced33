"""The CUDA kernel of ``fit/gpu.py``: one :func:`~skymap_scanner.fit.track.fit_row` per thread.

A module of its own so that ``numba.cuda`` is a module global here, which the CUDA simulator needs
(it swaps that global for its own ``cuda`` while a kernel runs), and is imported only when a GPU fit runs.
"""

from __future__ import annotations

from typing import Any

from numba import config, cuda, njit

from skymap_scanner.fit.track import fit_row

if config.ENABLE_CUDASIM:
    def host(x: Any) -> Any:
        """The numpy array inside a simulator array (the simulator runs kernels as Python and passes them
        wrapped arrays; the compiled CPU kernels they call want numpy arrays)."""
        return x._item._ary
else:
    @njit
    def host(x: Any) -> Any:
        """Identity on a device: the kernel's arguments already are device arrays."""
        return x


@cuda.jit
def fit_kernel(pos, t_hit, n_ph, bright, center, directions, seeds, model, table, grid, max_iter,
               out):  # pragma: no cover
    """out[k] = fit of (directions[k], seeds[k]) for every thread k < len(out) (see ``fit_row``)."""
    k = cuda.grid(1)
    if k < out.shape[0]:
        fit_row(k, host(pos), host(t_hit), host(n_ph), host(bright), host(center), host(directions),
                host(seeds), model, host(table), grid, max_iter, host(out))
