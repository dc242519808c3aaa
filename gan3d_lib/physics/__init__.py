"""The calorimeter, its observables and the per-energy shower facts (NumPy only).

Modules: ``geometry``, ``observables``, ``shower_facts``.
"""
