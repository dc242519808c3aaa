"""Shower files in the CERN 3DGAN layout, the GFlash Monte Carlo and its fit to Geant4, data sets and streams.

Modules: ``datasets``, ``io``, ``mc``, ``mc_tuning``, ``reference``, ``shower_stream``.
"""
