"""Physics kernels of the track reconstruction: Cherenkov geometry, Pandel and convolved Pandel PDFs,
per-DOM MPE/SPE likelihoods. Formulas, constants and sources: ``docs/physics.md`` §3–§6 and
``docs/track-reco.md``.

The kernels are scalar ``numba.njit`` functions built from ``math`` calls and arithmetic only, so the
same code runs in the CPU fitter (``skymap_scanner.fit``) and can be called from CUDA kernels; each
module also has array functions wrapping them for tests, plots and users. Import the submodules
(``physics.constants`` is plain Python and does not load numba; ``cherenkov``, ``pandel``,
``likelihood`` and ``special`` do).
"""
