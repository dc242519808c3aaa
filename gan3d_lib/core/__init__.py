"""Files that appear whole, results JSON with versions, Markdown tables: what every layer may use.

Modules: ``atomic``, ``errors``, ``results``, ``tables``.
"""
