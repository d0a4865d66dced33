"""``mpe_pandel_pointed``: :mod:`mpe_pandel` whose first round scans only the pixels within 3.5 deg of
the online fit direction (the event's ``direction`` seed), like upstream ``splinempe_pointed``."""

from __future__ import annotations

from skymap_scanner.recos.mpe_pandel import MpePandel


class MpePandelPointed(MpePandel):
    pointed = True
