"""Keras generators and discriminators, their heads, the GAN's loss terms and inference.

Modules: ``layers``, ``losses``, ``models``.
"""
