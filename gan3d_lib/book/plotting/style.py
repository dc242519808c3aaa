"""The book's figure style."""

from __future__ import annotations

import matplotlib.pyplot as plt
import mplhep

__all__ = ["use_style"]


def use_style() -> None:
    """Apply the mplhep ROOT-like style used by every figure in the book."""
    plt.style.use(mplhep.style.ROOT)
    plt.rcParams.update({"figure.dpi": 90, "savefig.dpi": 110, "font.size": 13,
                         "axes.labelsize": 13, "legend.fontsize": 11})
