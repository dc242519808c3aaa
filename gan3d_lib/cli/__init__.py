"""The ``gan3d`` command: its parser and what each subcommand does.

Modules: ``commands``, ``main``.
"""

from .parser import main

__all__ = ["main"]
