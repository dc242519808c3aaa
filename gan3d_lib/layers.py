"""Custom Keras layers of the generators and discriminators (registered for saving as 'gan3d>...').

Each is made on first use, so that importing gan3d_lib does not import Keras."""

from __future__ import annotations

import math
from functools import cache


def _keras():
    import keras

    return keras


@cache
def straight_through_relu_layer() -> type:
    keras = _keras()

    @keras.saving.register_keras_serializable(package="gan3d")
    class StraightThroughReLU(keras.layers.Layer):
        """ReLU forward; backward the gradient of LeakyReLU(``slope``) (a straight-through estimate)."""

        def __init__(self, slope: float, **kwargs):
            super().__init__(**kwargs)
            self.slope = float(slope)

        def call(self, x):
            leaky = keras.ops.where(x > 0, x, self.slope * x)
            return leaky + keras.ops.stop_gradient(keras.ops.relu(x) - leaky)

        def get_config(self):
            return {**super().get_config(), "slope": self.slope}

    return StraightThroughReLU


@cache
def bounded_exp_layer() -> type:
    keras = _keras()

    @keras.saving.register_keras_serializable(package="gan3d")
    class BoundedExp(keras.layers.Layer):
        """exp(min(x, ``max_log``)): a positive output that cannot run away."""

        def __init__(self, max_log: float, **kwargs):
            super().__init__(**kwargs)
            self.max_log = float(max_log)

        def call(self, x):
            return keras.ops.exp(keras.ops.minimum(x, self.max_log))

        def get_config(self):
            return {**super().get_config(), "max_log": self.max_log}

    return BoundedExp


@cache
def energy_scale_layer() -> type:
    keras = _keras()

    @keras.saving.register_keras_serializable(package="gan3d")
    class EnergyScale(keras.layers.Layer):
        """[latent (N, L), cells (N, 25, 25, 25)] -> cells x exp(g), one factor per shower:
        g = w . [u, u l, l, l^2] + b, clipped to +-``max_log``, with l = ln(E_p / 100 GeV) from the
        latent's length (exact for 'sphere' latents) and u = ln(E_cal / (E_p ``centre_sf``)),
        E_cal = ``unit_gev`` x the cells' sum. With w = (-beta, -beta k, ...), u's spread shrinks by
        beta (1 + k l) about a centre set by the other weights; the shape is untouched. Starts at w = b = 0."""

        def __init__(self, unit_gev: float, centre_sf: float, max_log: float, **kwargs):
            super().__init__(**kwargs)
            self.unit_gev, self.centre_sf, self.max_log = float(unit_gev), float(centre_sf), float(max_log)

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(4,), initializer="zeros", name="kernel")
            self.bias = self.add_weight(shape=(), initializer="zeros", name="bias")

        def call(self, inputs):
            ops = keras.ops
            latent, cells = inputs
            # Logs of sums only (no division, no square root): TFLite's full-integer kernels
            # fail on a quantized divisor that rounds to zero.
            ln_e = 0.5 * ops.log(ops.mean(latent * latent, axis=1) + 1e-12)  # E_p / 100 GeV = |z| / sqrt(L)
            u = ops.log(ops.sum(cells, axis=(1, 2, 3)) + 1e-12) - ln_e + math.log(self.unit_gev / (100.0 * self.centre_sf))
            features = ops.stack([u, u * ln_e, ln_e, ln_e * ln_e], axis=1)
            # An elementwise product, not a MatMul: no INT8 backend takes these five weights for a layer to quantize.
            g = ops.clip(ops.sum(features * self.kernel, axis=1) + self.bias, -self.max_log, self.max_log)
            return cells * ops.exp(g)[:, None, None, None]

        def get_config(self):
            return {**super().get_config(), "unit_gev": self.unit_gev, "centre_sf": self.centre_sf,
                    "max_log": self.max_log}

    return EnergyScale


@cache
def total_energy_layer() -> type:
    keras = _keras()

    @keras.saving.register_keras_serializable(package="gan3d")
    class TotalEnergy(keras.layers.Layer):
        """Sum of all cell energies of a (N, 25, 25, 25) shower: (N, 1) in GeV."""

        def call(self, showers):
            return keras.ops.sum(showers, axis=(1, 2, 3))[:, None]

    return TotalEnergy
