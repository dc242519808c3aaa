"""gan3d: reproducible reduced-precision calorimeter GANs (library)."""
