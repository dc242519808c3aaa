"""HEP-style figures of showers and their observables. Draws only; computes no physics.

Every function returns a matplotlib ``Figure``; axes carry units. One module per part of the
book: :mod:`.showers` (chapters 1-2), :mod:`.speed` (chapters 3-4, claims), :mod:`.validation`
(chapter 5); all are importable from ``gan3d_lib.plotting``.
"""

from .showers import *  # noqa: F403
from .showers import __all__ as _showers
from .speed import *  # noqa: F403
from .speed import __all__ as _speed
from .style import use_style
from .validation import *  # noqa: F403
from .validation import __all__ as _validation

__all__ = ["use_style", *_showers, *_speed, *_validation]
