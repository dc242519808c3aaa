"""Keras generators and discriminators: the Conv3D 3DGAN and its three-branch Conv2D rewrite.

* ``conv3d``: the original 3DGAN ``EcalEnergyGan`` generator (872,948 parameters at width 1).
* ``conv2d``: F. Rehm's Conv2D generator (three permuted 5x5x5 views, Conv2D /
  Conv2DTranspose stacks, concatenated, final Conv2D to 25 channels = depth; 2,055,324
  parameters at width 1).

Generators map a latent vector (N, 200) to showers (N, 25, 25, 25) in GeV, non-negative
(final ReLU; with the optional small-cell head, ReLU plus a positive exp(...) in MeV; with the
optional energy-scale head, all cells of a shower times one learned factor). The
primary energy conditions the latent vector by multiplication, ``latent = (E / 100 GeV) * u``
with u of length sqrt(200) (the study's u ~ N(0, 1)^200 with ``norm='normal'``; :func:`latent_vectors`).
``width`` multiplies every hidden channel count, so the same topology has a small ``lite`` size for CPUs.

Discriminators return three heads: ``generation`` (real/fake probability), ``auxiliary``
(regressed E_p / 100 GeV) and ``ecal`` (the total deposited energy of the input in GeV,
not learned).
"""

from __future__ import annotations

import collections
import itertools
from typing import Any

import numpy as np

from . import layers

__all__ = ["LATENT_SIZE", "LATENT_NORMS", "NET_UNIT_GEV", "SIZES", "SMALL_CELL_INIT_LN_MEV", "SMALL_CELL_MAX_LN_MEV",
           "ENERGY_SCALE_CENTRE_SF", "ENERGY_SCALE_MAX_LN", "HEADS", "latent_vectors", "latent_energy_gev",
           "build_generator", "build_discriminator", "generator_options", "transfer_weights", "widen_weights",
           "energy_scale_at_identity",
           "count_parameters", "layer_multiply_accumulates", "multiply_accumulates", "TotalEnergy"]

LATENT_SIZE = 200
SIZES = {"paper": 1.0, "lite": 0.25}
_LEAKY_SLOPE = 0.3  # Keras 2 LeakyReLU default, used by the original code
# Networks work in units of 1 MeV (cells of ~1e-3 GeV are awkward for BatchNorm-ed nets):
# the generator ends with a fixed Rescaling to GeV, the discriminator starts with its inverse.
_NET_UNIT_GEV = 0.001
NET_UNIT_GEV = _NET_UNIT_GEV  #: GeV per unit of the networks' cell values
# The small-cell head (build_generator(small_cell_head=True)) starts every cell at
# exp(-10) MeV = 4.5e-5 MeV (0.7 MeV over all 15 625 cells) and is capped at exp(3) = 20 MeV.
SMALL_CELL_INIT_LN_MEV = -10.0
SMALL_CELL_MAX_LN_MEV = 3.0
# The energy-scale head's features are ln(E_cal / (E_p x ENERGY_SCALE_CENTRE_SF)): a centre near
# the calorimeter's sampling fraction (2.5-2.9 %, reference.GEANT4_REFERENCE), not a fitted value;
# it only keeps the feature near 0, so that its weight and the bias do not learn the same thing.
# The factor exp(g) is held within exp(+-ENERGY_SCALE_MAX_LN).
ENERGY_SCALE_CENTRE_SF = 0.027
ENERGY_SCALE_MAX_LN = 0.5
# The depth-fluctuation head shifts each shower by d layers and stretches it by exp(g) about layer
# DEPTH_PIVOT_LAYER, d and g drawn from the latent with learned spreads that start at
# exp(DEPTH_SHIFT_INIT_LN) = 0.05 layer and exp(DEPTH_STRETCH_INIT_LN) = 0.7 % (0.08 layer at the
# grid's ends), held within +-DEPTH_SHIFT_MAX_LAYERS and exp(+-DEPTH_STRETCH_MAX_LN).
DEPTH_PIVOT_LAYER = 12.0
DEPTH_SHIFT_MAX_LAYERS = 4.0
DEPTH_STRETCH_MAX_LN = 0.5
DEPTH_SHIFT_INIT_LN = -3.0
DEPTH_STRETCH_INIT_LN = -5.0
#: build_generator's optional heads, each named by its layers' name prefix.
HEADS = {"small_cell_head": "small_cells", "energy_scale_head": "energy_scale",
         "depth_fluctuation_head": "depth_fluctuation"}


LATENT_NORMS = ("sphere", "normal")


def latent_vectors(energies_gev: np.ndarray, *, seed: int, latent_size: int = LATENT_SIZE,
                   norm: str = "sphere") -> np.ndarray:
    """(N, latent_size) float32 generator inputs (E_p / 100 GeV) * u.

    ``norm`` 'normal' (the study's): u ~ N(0, 1)^latent_size, whose length carries E_p only to
    1 / sqrt(2 latent_size) (5 % for 200); 'sphere' (ours, the default): the same direction
    scaled to length sqrt(latent_size), so the latent's length is exactly E_p / 100 GeV x sqrt(latent_size)."""
    if norm not in LATENT_NORMS:
        raise ValueError(f"latent norm must be one of {LATENT_NORMS}, got {norm!r}")
    e = np.asarray(energies_gev, dtype=np.float32).reshape(-1, 1)
    noise = np.random.default_rng(seed).standard_normal((e.shape[0], latent_size), dtype=np.float32)
    if norm == "sphere":
        noise *= np.float32(np.sqrt(latent_size)) / np.linalg.norm(noise, axis=1, keepdims=True)
    return e / 100.0 * noise


def latent_energy_gev(latent: np.ndarray) -> np.ndarray:
    """(N,) primary energy in GeV estimated from latent vectors (N, latent_size) of
    :func:`latent_vectors`: 100 GeV x |latent| / sqrt(latent_size) (exact for 'sphere' latents;
    relative spread about 1 / sqrt(2 latent_size), 5 % for 200, for the study's 'normal' ones)."""
    z = np.asarray(latent, np.float64)
    return 100.0 * np.linalg.norm(z, axis=1) / np.sqrt(z.shape[1])


def _keras():
    import keras

    return keras


def _f(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


def _layer_names(prefix: str = ""):
    """kind -> a layer name numbered per model (``conv2d_0``, ``conv2d_1``, ...), not by Keras's process-wide
    counters: the exported graphs, and so the artefacts' bytes on disk, are the same in every process."""
    counters = collections.defaultdict(itertools.count)
    return lambda kind: f"{prefix}{kind}_{next(counters[kind])}"


def _block(x, layer, names=None, *, dropout: float | None):
    """layer -> LeakyReLU(0.3) -> BatchNorm [-> Dropout]; ``names``: None for Keras's own."""
    k = _keras().layers
    name = names or (lambda kind: None)
    x = k.LeakyReLU(negative_slope=_LEAKY_SLOPE, name=name("leaky_relu"))(layer(x))
    x = k.BatchNormalization(name=name("batch_normalization"))(x)
    return k.Dropout(dropout, name=name("dropout"))(x) if dropout else x


def _conv3d_generator(width: float, latent_size: int):
    keras = _keras()
    L = keras.layers
    n = _layer_names()
    inp = keras.Input((latent_size,), name="latent")
    x = L.Dense(7 * 7 * 8 * _f(8, width), name=n("dense"))(inp)
    x = L.Reshape((7, 7, 8, _f(8, width)), name=n("reshape"))(x)
    conv = lambda filters, size, padding: L.Conv3D(_f(filters, width), size, padding=padding,  # noqa: E731
                                                   kernel_initializer="he_uniform", name=n("conv3d"))
    x = _block(x, conv(64, (6, 6, 8), "same"), n, dropout=None)
    x = L.UpSampling3D((2, 2, 2), name=n("up_sampling3d"))(x)
    x = L.ZeroPadding3D((2, 2, 0), name=n("zero_padding3d"))(x)
    x = _block(x, conv(6, (6, 5, 8), "valid"), n, dropout=None)
    x = L.UpSampling3D((2, 2, 3), name=n("up_sampling3d"))(x)
    x = L.ZeroPadding3D((1, 0, 3), name=n("zero_padding3d"))(x)
    x = conv(6, (3, 3, 8), "valid")(x)
    x = L.LeakyReLU(negative_slope=_LEAKY_SLOPE, name=n("leaky_relu"))(x)
    x = L.Conv3D(1, (2, 2, 2), use_bias=False, kernel_initializer="glorot_normal", name=n("conv3d"))(x)
    x = L.Reshape((25, 25, 25), name=n("reshape"))(L.ReLU(name=n("re_lu"))(x))
    out = L.Rescaling(_NET_UNIT_GEV, name="shower")(x)
    return keras.Model(inp, out, name="conv3d_generator")


def _conv2d_branch(x, width: float, names):
    L = _keras().layers
    f = lambda n: _f(n, width)  # noqa: E731
    conv = lambda filters, size, padding: L.Conv2D(filters, size, padding=padding, use_bias=False,  # noqa: E731
                                                   name=names("conv2d"))
    x = _block(x, conv(f(32), 5, "same"), names, dropout=0.2)
    x = L.Conv2DTranspose(f(64), 5, strides=3, padding="same", name=names("conv2d_transpose"))(x)  # 5 -> 15
    x = _block(x, conv(f(64), 5, "same"), names, dropout=0.2)
    x = L.Conv2DTranspose(f(64), 5, strides=2, padding="same", name=names("conv2d_transpose"))(x)  # 15 -> 30
    x = _block(x, conv(f(64), 8, "same"), names, dropout=0.2)
    x = _block(x, conv(f(64), 5, "valid"), names, dropout=0.2)  # 30 -> 26
    x = _block(x, conv(f(32), 4, "same"), names, dropout=0.2)
    x = _block(x, conv(f(32), 3, "same"), names, dropout=0.2)
    return _block(x, conv(25, 2, "valid"), names, dropout=0.2)  # 26 -> 25


def _conv2d_generator(width: float, latent_size: int, small_cell_head: bool,
                      energy_scale_head: bool, depth_fluctuation_head: bool):
    keras = _keras()
    L = keras.layers
    n = _layer_names()
    inp = keras.Input((latent_size,), name="latent")
    x = L.Reshape((5, 5, 5), name=n("reshape"))(L.Dense(125, name=n("dense"))(inp))
    # Each branch convolves a different pair of axes; its output is permuted back to (x, y, depth).
    views = [(None, None), ((3, 1, 2), (2, 3, 1)), ((2, 3, 1), (3, 1, 2))]
    outs = []
    for i, (forward, back) in enumerate(views):
        v = L.Permute(forward, name=n("permute"))(x) if forward else x
        v = _conv2d_branch(v, width, _layer_names(f"view{i}_"))
        outs.append(L.Permute(back, name=n("permute"))(v) if back else v)
    x = L.Concatenate(axis=-1, name=n("concatenate"))(outs)
    features = x
    x = L.Conv2D(25, 3, padding="same", use_bias=False, name=n("conv2d"))(features)
    cells = L.ReLU(name=n("re_lu"))(x)
    if small_cell_head:
        # A second output in ln(E / MeV), added to the ReLU's cells: never exactly 0, so every
        # cell keeps a gradient. Starts at exp(SMALL_CELL_INIT_LN_MEV) MeV in every cell.
        log_small = L.Conv2D(25, 3, padding="same", kernel_initializer="zeros", name="small_cells_ln_mev",
                             bias_initializer=keras.initializers.Constant(SMALL_CELL_INIT_LN_MEV))(features)
        small = layers.bounded_exp_layer()(SMALL_CELL_MAX_LN_MEV, name="small_cells_mev")(log_small)
        cells = L.Add(name="cells_mev")([cells, small])
    if depth_fluctuation_head:
        cells = layers.depth_fluctuation_layer()(DEPTH_PIVOT_LAYER, DEPTH_SHIFT_MAX_LAYERS, DEPTH_STRETCH_MAX_LN,
                                                 DEPTH_SHIFT_INIT_LN, DEPTH_STRETCH_INIT_LN, name="depth_fluctuation",
                                                 dtype="float32")([inp, cells])
    if energy_scale_head:
        # float32 under any policy: ln of a sum over 15 625 cells.
        cells = layers.energy_scale_layer()(_NET_UNIT_GEV, ENERGY_SCALE_CENTRE_SF, ENERGY_SCALE_MAX_LN,
                                      name="energy_scale", dtype="float32")([inp, cells])
    out = L.Rescaling(_NET_UNIT_GEV, name="shower")(cells)
    return keras.Model(inp, out, name="conv2d_generator")


def build_generator(kind: str, *, size: str | float = "paper", latent_size: int = LATENT_SIZE, seed: int = 0,
                    small_cell_head: bool = False,
                    energy_scale_head: bool = False, depth_fluctuation_head: bool = False) -> Any:
    """A generator ``kind`` in {'conv3d', 'conv2d'} at ``size`` ('paper', 'lite' or a width).

    ``small_cell_head`` (Conv2D) adds a second output convolution on the same features, in
    ln(E_cell / MeV), whose exp(...) (at most exp(SMALL_CELL_MAX_LN_MEV) MeV) is added to the
    ReLU's cells: the 0.1-3 MeV cells that a ReLU, once switched off, cannot learn back.

    ``energy_scale_head`` (Conv2D) multiplies every cell of a shower by one factor exp(g) learned
    from that shower's own E_cal / E_p and E_p (see ``EnergyScale``): its total energy calibrated
    apart from its shape. It starts as the identity.

    ``depth_fluctuation_head`` (Conv2D) resamples each shower in depth, shifted and stretched by
    amounts drawn from the latent with learned energy-dependent spreads (see ``DepthFluctuation``):
    the shower-to-shower fluctuation of the depth. It starts near the identity."""
    width = SIZES[size] if isinstance(size, str) else float(size)
    _keras().utils.set_random_seed(seed)
    if kind == "conv3d":
        if small_cell_head or energy_scale_head or depth_fluctuation_head:
            raise ValueError("small_cell_head, energy_scale_head and depth_fluctuation_head are defined for the conv2d "
                             "generator only")
        return _conv3d_generator(width, latent_size)
    if kind == "conv2d":
        return _conv2d_generator(width, latent_size, small_cell_head, energy_scale_head, depth_fluctuation_head)
    raise ValueError(f"unknown generator kind {kind!r}; choose 'conv3d' or 'conv2d'")



def _head_of(layer) -> str | None:
    return next((head for head, prefix in HEADS.items() if layer.name.startswith(prefix)), None)


def generator_options(generator: Any) -> dict[str, bool]:
    """The :func:`build_generator` options a built generator was made with ({'small_cell_head': ...,
    'energy_scale_head': ...}), so that another size or a reloaded copy is built alike."""
    heads = {_head_of(layer) for layer in generator.layers}
    return {head: head in heads for head in HEADS}


def transfer_weights(source: Any, target: Any) -> int:
    """Copy the weights of ``source`` into the layers of ``target`` that it shares (same order,
    same shapes), skipping the heads (:data:`HEADS`) that only one of them has; returns the number
    of layers copied. For starting a generator with a head from one trained without it, or the
    reverse (an ablation without the head)."""
    shared = {head for head, present in generator_options(source).items()
              if present and generator_options(target)[head]} | {None}
    src = [layer for layer in source.layers if layer.weights and _head_of(layer) in shared]
    dst = [layer for layer in target.layers if layer.weights and _head_of(layer) in shared]
    if len(src) != len(dst):
        raise ValueError(f"{source.name} has {len(src)} layers with weights, {target.name} {len(dst)} besides its heads")
    for a, b in zip(src, dst):
        shapes_a, shapes_b = [w.shape for w in a.get_weights()], [w.shape for w in b.get_weights()]
        if shapes_a != shapes_b:
            raise ValueError(f"layer {a.name} {shapes_a} does not match {b.name} {shapes_b}")
        b.set_weights(a.get_weights())
    return len(dst)


def _widened(value: np.ndarray, target_shape: tuple, input_axes: tuple[int, ...], rng: np.random.Generator,
             split_noise: float) -> np.ndarray:
    """``value`` tiled to ``target_shape`` along each axis grown by an integer factor; along an input
    axis the copies' weights are split in parts summing to the original (1 / factor x (1 +
    ``split_noise`` N(0, 1)), renormalised): same output, different gradients."""
    out = np.asarray(value)
    for axis, (narrow, wide) in enumerate(zip(value.shape, target_shape)):
        if narrow == wide:
            continue
        if wide % narrow:
            raise ValueError(f"cannot widen axis {axis} from {narrow} to {wide} channels: not a multiple")
        factor = wide // narrow
        reps = [1] * out.ndim
        reps[axis] = factor
        out = np.tile(out, reps)
        if axis in input_axes:
            shape = list(out.shape)
            shape[axis:axis + 1] = [factor, narrow]
            parts = np.maximum(1.0 + split_noise * rng.standard_normal(shape), 0.05)
            parts /= parts.sum(axis=axis, keepdims=True)
            out = out * parts.reshape(out.shape)
    return out.astype(np.asarray(value).dtype)


def widen_weights(source: Any, target: Any, *, seed: int, split_noise: float = 0.1) -> int:
    """Net2Net's function-preserving widening (Chen et al., WiderNet): copy ``source`` into
    ``target``, a model of the same topology whose hidden layers have an integer multiple of
    ``source``'s channels (lite -> paper: 4). Each channel is copied into the wider layer's
    copies (kernels, biases, BatchNorm statistics); the next layer's incoming weights are split
    among the copies (:func:`_widened`), so ``target`` computes ``source``'s outputs up to float
    rounding. Returns the number of layers copied."""
    L = _keras().layers
    rng = np.random.default_rng(seed)
    src = [layer for layer in source.layers if layer.weights]
    dst = [layer for layer in target.layers if layer.weights]
    if len(src) != len(dst) or any(type(a) is not type(b) for a, b in zip(src, dst)):
        raise ValueError(f"{source.name} and {target.name} differ in their layers: not the same topology")
    for a, b in zip(src, dst):
        if isinstance(a, (L.Conv2DTranspose, L.Conv3DTranspose)):
            inputs = (a.kernel.ndim - 1,)  # kernel (..., filters, input channels)
        elif isinstance(a, (L.Conv2D, L.Conv3D, L.Dense)):
            inputs = (a.kernel.ndim - 2,)  # kernel (..., input channels, filters)
        else:
            inputs = ()  # biases, BatchNorm vectors, heads: per output channel
        b.set_weights([_widened(w.numpy(), tuple(t.shape), inputs if w is getattr(a, "kernel", None) else (), rng,
                                split_noise) for w, t in zip(a.weights, b.weights)])
    return len(dst)


def energy_scale_at_identity(generator: Any) -> Any:
    """A copy of ``generator`` whose energy-scale head multiplies by 1: the showers it would paint
    without the head (``ValueError`` if it has none)."""
    options = generator_options(generator)
    if not options["energy_scale_head"]:
        raise ValueError(f"{generator.name} has no energy-scale head")
    copy = _keras().models.clone_model(generator)
    copy.set_weights(generator.get_weights())
    head = copy.get_layer("energy_scale")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    return copy


def __getattr__(name: str):
    if name == "TotalEnergy":
        return layers.total_energy_layer()
    raise AttributeError(name)


def _heads(features, showers):
    L = _keras().layers
    generation = L.Dense(1, activation="sigmoid", name="generation")(features)
    auxiliary = L.Dense(1, name="auxiliary")(features)
    ecal = layers.total_energy_layer()(name="ecal")(showers)
    return [generation, auxiliary, ecal]


def build_discriminator(kind: str, *, size: str | float = "paper", seed: int = 0) -> Any:
    """A discriminator ``kind`` in {'conv3d', 'conv2d'}: showers -> [generation, auxiliary, ecal]."""
    keras = _keras()
    L = keras.layers
    width = SIZES[size] if isinstance(size, str) else float(size)
    f = lambda n: _f(n, width)  # noqa: E731
    keras.utils.set_random_seed(seed)
    inp = keras.Input((25, 25, 25), name="showers")
    scaled = L.Rescaling(1.0 / _NET_UNIT_GEV)(inp)
    if kind == "conv3d":
        x = L.Reshape((25, 25, 25, 1))(scaled)
        x = L.Dropout(0.2)(L.LeakyReLU(negative_slope=_LEAKY_SLOPE)(L.Conv3D(f(32), 5, padding="same")(x)))
        for pad in (2, 2, 1):
            x = L.ZeroPadding3D(pad)(x)
            x = _block(x, L.Conv3D(f(8), 5, padding="valid"), dropout=0.2)
        x = L.Flatten()(L.AveragePooling3D(2)(x))
    elif kind == "conv2d":
        views = []
        for forward in (None, (3, 1, 2), (2, 3, 1)):
            v = L.Permute(forward)(scaled) if forward else scaled
            v = _block(v, L.Conv2D(f(64), 8, padding="same"), dropout=0.2)
            for n, k in ((32, 6), (32, 5), (32, 4), (32, 3)):
                v = _block(v, L.Conv2D(f(n), k, padding="valid"), dropout=0.2)
            views.append(_block(v, L.Conv2D(9, 3, padding="valid"), dropout=0.2))
        x = L.Flatten()(L.Concatenate(axis=-1)(views))
        x = L.BatchNormalization()(L.LeakyReLU(negative_slope=_LEAKY_SLOPE)(L.Dense(10)(x)))
    else:
        raise ValueError(f"unknown discriminator kind {kind!r}; choose 'conv3d' or 'conv2d'")
    return keras.Model(inp, _heads(x, inp), name=f"{kind}_discriminator")


def count_parameters(model: Any) -> dict[str, int]:
    """{'total', 'trainable', 'non_trainable'} parameter counts."""
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return {"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}


def layer_multiply_accumulates(model: Any) -> dict[str, int]:
    """{layer name: multiply-accumulate operations per sample} of the Dense and convolution
    layers, in model order.

    Conv: output positions x kernel volume x input channels x filters; transposed conv:
    input positions x kernel volume x input channels x filters; Dense: inputs x units; the
    depth-fluctuation head's matrix product: x x y cells x layers in x layers out.
    Element-wise layers (activations, BatchNorm, additions) are not counted.
    """
    keras = _keras()
    L = keras.layers
    out: dict[str, int] = {}
    for layer in model.layers:
        if isinstance(layer, L.Dense):
            out[layer.name] = int(layer.input.shape[-1]) * layer.units
        elif isinstance(layer, (L.Conv2DTranspose, L.Conv3DTranspose)):
            spatial = int(np.prod(layer.input.shape[1:-1]))
            out[layer.name] = spatial * int(np.prod(layer.kernel_size)) * int(layer.input.shape[-1]) * layer.filters
        elif isinstance(layer, (L.Conv2D, L.Conv3D)):
            spatial = int(np.prod(layer.output.shape[1:-1]))
            out[layer.name] = spatial * int(np.prod(layer.kernel_size)) * int(layer.input.shape[-1]) * layer.filters
        elif isinstance(layer, layers.depth_fluctuation_layer()):
            cells = layer.input[1].shape
            out[layer.name] = int(np.prod(cells[1:])) * int(cells[-1])
    return out


def multiply_accumulates(model: Any) -> int:
    """Multiply-accumulate operations per sample of the model's Dense and convolution layers
    (:func:`layer_multiply_accumulates`)."""
    return sum(layer_multiply_accumulates(model).values())
