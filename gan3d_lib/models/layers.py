"""Custom Keras layers of the generators and discriminators (registered for saving as 'gan3d>...').

Each is made on first use, so that importing gan3d_lib does not import Keras."""

from __future__ import annotations

import math
from functools import cache


def _keras():
    import keras

    return keras


def _ln_energy(ops, latent):
    """(N,) ln(E_p / 100 GeV) from the latent's length, |z| = sqrt(L) E_p / 100 GeV (exact for
    'sphere' latents); logs of sums only (no division, no square root): TFLite's full-integer
    kernels fail on a quantized divisor that rounds to zero."""
    return 0.5 * ops.log(ops.mean(latent * latent, axis=1) + 1e-12)


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
            ln_e = _ln_energy(ops, latent)
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
def depth_fluctuation_layer() -> type:
    keras = _keras()

    @keras.saving.register_keras_serializable(package="gan3d")
    class DepthFluctuation(keras.layers.Layer):
        """[latent (N, L), cells (N, X, Y, n)] -> the cells resampled in depth, one shift and one
        stretch per shower: output layer z takes the cells at depth p = clip(c + (z - c) exp(-g) - d,
        0, n - 1) (layers, c = ``pivot_layer``), linearly interpolated between the two nearest layers.
        d = u_0 exp(a_0 + a_1 l) layers (within +-``max_shift``), g = u_1 exp(b_0 + b_1 l) (within
        +-``max_ln_stretch``), l = ln(E_p / 100 GeV) from the latent's length (exact for 'sphere'
        latents) and u_k = latent_k sqrt(L) / |latent|, standard normal and independent of E_p.
        Kernel (a_0, a_1, b_0, b_1), starting at (``shift_init_ln``, 0, ``stretch_init_ln``, 0)."""

        def __init__(self, pivot_layer: float, max_shift: float, max_ln_stretch: float, shift_init_ln: float,
                     stretch_init_ln: float, **kwargs):
            super().__init__(**kwargs)
            self.pivot_layer, self.max_shift, self.max_ln_stretch = float(pivot_layer), float(max_shift), float(max_ln_stretch)
            self.shift_init_ln, self.stretch_init_ln = float(shift_init_ln), float(stretch_init_ln)

        def build(self, input_shape):
            init = keras.initializers.Constant([self.shift_init_ln, 0.0, self.stretch_init_ln, 0.0])
            self.kernel = self.add_weight(shape=(4,), initializer=init, name="kernel")

        def call(self, inputs):
            ops = keras.ops
            latent, cells = inputs
            n_xy, n = cells.shape[1] * cells.shape[2], cells.shape[3]
            ln_e = _ln_energy(ops, latent)
            inverse_length = ops.exp(-ln_e)  # a product, not a division (see _ln_energy)
            k = self.kernel
            shift = ops.clip(latent[:, 0] * inverse_length * ops.exp(k[0] + k[1] * ln_e), -self.max_shift, self.max_shift)
            ln_stretch = ops.clip(latent[:, 1] * inverse_length * ops.exp(k[2] + k[3] * ln_e),
                                  -self.max_ln_stretch, self.max_ln_stretch)
            z = ops.arange(n, dtype="float32")
            source = ops.clip(self.pivot_layer + (z[None, :] - self.pivot_layer) * ops.exp(-ln_stretch)[:, None]
                              - shift[:, None], 0.0, n - 1.0)  # (N, n): depth each output layer reads
            weights = ops.relu(1.0 - ops.abs(z[None, :, None] - source[:, None, :]))  # (N, n_in, n_out)
            return ops.reshape(ops.matmul(ops.reshape(cells, (-1, n_xy, n)), weights), (-1, cells.shape[1], cells.shape[2], n))

        def get_config(self):
            return {**super().get_config(), "pivot_layer": self.pivot_layer, "max_shift": self.max_shift,
                    "max_ln_stretch": self.max_ln_stretch, "shift_init_ln": self.shift_init_ln,
                    "stretch_init_ln": self.stretch_init_ln}

    return DepthFluctuation


@cache
def total_energy_layer() -> type:
    keras = _keras()

    @keras.saving.register_keras_serializable(package="gan3d")
    class TotalEnergy(keras.layers.Layer):
        """Sum of all cell energies of a (N, 25, 25, 25) shower: (N, 1) in GeV."""

        def call(self, showers):
            return keras.ops.sum(showers, axis=(1, 2, 3))[:, None]

    return TotalEnergy
