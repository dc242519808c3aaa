import numpy as np
import pytest

from gan3d_lib.models import models


@pytest.mark.parametrize("kind,expected", [("conv3d", 872_948), ("conv2d", 2_055_324)])
def test_paper_generators_have_the_published_parameter_counts(kind, expected):
    g = models.build_generator(kind, size="paper")
    assert models.count_parameters(g)["total"] == expected


@pytest.mark.parametrize("kind", ["conv3d", "conv2d"])
def test_generators_map_latent_and_energy_to_non_negative_showers(kind):
    g = models.build_generator(kind, size="lite")
    z = models.latent_vectors(np.array([2.0, 100.0, 500.0]), seed=1)
    showers = np.asarray(g(z, training=False))
    assert showers.shape == (3, 25, 25, 25)
    assert (showers >= 0).all() and np.isfinite(showers).all()


def test_small_cell_head_starts_from_a_plain_generator_and_gives_every_cell_a_gradient():
    import tensorflow as tf

    plain = models.build_generator("conv2d", size=0.1, seed=3)
    headed = models.build_generator("conv2d", size=0.1, seed=4, small_cell_head=True)
    assert models.transfer_weights(plain, headed) == len([layer for layer in plain.layers if layer.weights])
    z = tf.constant(models.latent_vectors(np.array([5.0, 300.0]), seed=2))
    base, showers = np.asarray(plain(z, training=False)), np.asarray(headed(z, training=False))
    floor_gev = np.exp(models.SMALL_CELL_INIT_LN_MEV) * models.NET_UNIT_GEV
    np.testing.assert_allclose(showers - base, floor_gev, rtol=1e-3, atol=1e-9)
    assert (base == 0).any() and (showers > 0).all()
    head_bias = headed.get_layer("small_cells_ln_mev").bias
    with tf.GradientTape() as tape:
        out = headed(z, training=False)
        loss = tf.reduce_sum(tf.cast(tf.constant(base) == 0.0, tf.float32) * out)  # only cells the ReLU switched off
    assert float(tf.reduce_min(tf.abs(tape.gradient(loss, head_bias)))) > 0.0
    with pytest.raises(ValueError, match="layers with weights"):
        models.transfer_weights(models.build_generator("conv3d", size=0.1), headed)
    with pytest.raises(ValueError, match="conv2d generator only"):
        models.build_generator("conv3d", size=0.1, small_cell_head=True)


def test_energy_scale_head_starts_as_the_identity_and_scales_each_shower_by_its_own_factor():
    plain = models.build_generator("conv2d", size=0.1, seed=3, small_cell_head=True)
    headed = models.build_generator("conv2d", size=0.1, seed=4, small_cell_head=True, energy_scale_head=True)
    assert models.generator_options(headed) == {"small_cell_head": True, "energy_scale_head": True,
                                                "depth_fluctuation_head": False}
    assert models.transfer_weights(plain, headed) == len([layer for layer in plain.layers if layer.weights])
    energies = np.array([5.0, 60.0, 300.0])
    z = models.latent_vectors(energies, seed=2, norm="sphere")
    base = np.asarray(plain(z, training=False), np.float64)
    np.testing.assert_array_equal(np.asarray(headed(z, training=False)), base)
    w, b = np.array([-0.3, 0.05, 0.02, -0.01]), 0.03
    head = headed.get_layer("energy_scale")
    head.kernel.assign(w.astype(np.float32))
    head.bias.assign(np.float32(b))
    showers = np.asarray(headed(z, training=False), np.float64)
    u = np.log(base.sum(axis=(1, 2, 3)) / (energies * models.ENERGY_SCALE_CENTRE_SF))
    ln_e = np.log(energies / 100.0)
    factor = np.exp(np.clip(np.stack([u, u * ln_e, ln_e, ln_e**2], axis=1) @ w + b, -0.5, 0.5))
    np.testing.assert_allclose(showers, base * factor[:, None, None, None], rtol=1e-4, atol=1e-12)
    ratios = showers[base > 0] / base[base > 0]  # one factor per shower: the shapes are untouched
    assert len(np.unique(np.round(ratios, 4))) <= len(energies)
    np.testing.assert_array_equal(np.asarray(models.energy_scale_at_identity(headed)(z, training=False)), base)
    assert head.kernel.numpy() == pytest.approx(w)  # the copy's head was zeroed, not the original's
    with pytest.raises(ValueError, match="no energy-scale head"):
        models.energy_scale_at_identity(plain)
    with pytest.raises(ValueError, match="conv2d generator only"):
        models.build_generator("conv3d", size=0.1, energy_scale_head=True)


def test_depth_fluctuation_head_shifts_and_stretches_each_shower_in_depth():
    plain = models.build_generator("conv2d", size=0.1, seed=3, small_cell_head=True)
    headed = models.build_generator("conv2d", size=0.1, seed=4, small_cell_head=True, depth_fluctuation_head=True)
    assert models.generator_options(headed)["depth_fluctuation_head"]
    models.transfer_weights(plain, headed)
    energies = np.array([5.0, 60.0, 300.0, 300.0])
    z = models.latent_vectors(energies, seed=2, norm="sphere")
    base = np.asarray(plain(z, training=False), np.float64)
    head = headed.get_layer("depth_fluctuation")
    assert head.kernel.numpy() == pytest.approx([models.DEPTH_SHIFT_INIT_LN, 0.0, models.DEPTH_STRETCH_INIT_LN, 0.0])
    a = np.array([0.3, 0.2, -1.0, 0.1])
    head.kernel.assign(a.astype(np.float32))
    showers = np.asarray(headed(z, training=False), np.float64)
    # by hand: the latent's first two directions, scaled by their energy-dependent spreads
    ln_e = np.log(energies / 100.0)
    u = z[:, :2] * np.sqrt(z.shape[1]) / np.linalg.norm(z, axis=1, keepdims=True)
    shift = np.clip(u[:, 0] * np.exp(a[0] + a[1] * ln_e), -models.DEPTH_SHIFT_MAX_LAYERS, models.DEPTH_SHIFT_MAX_LAYERS)
    ln_stretch = np.clip(u[:, 1] * np.exp(a[2] + a[3] * ln_e), -models.DEPTH_STRETCH_MAX_LN, models.DEPTH_STRETCH_MAX_LN)
    layer = np.arange(25.0)
    c = models.DEPTH_PIVOT_LAYER
    source = np.clip(c + (layer[None] - c) * np.exp(-ln_stretch)[:, None] - shift[:, None], 0, 24)
    expected = np.stack([np.stack([np.interp(source[i], layer, base[i, x, y]) for y in range(25)]) for i in range(4)
                         for x in range(25)]).reshape(base.shape)
    np.testing.assert_allclose(showers, expected, rtol=1e-4, atol=1e-6 * base.max())
    assert abs(shift[2] - shift[3]) > 0.05  # same energy, different latents: different depths
    with pytest.raises(ValueError, match="conv2d generator only"):
        models.build_generator("conv3d", size=0.1, depth_fluctuation_head=True)


@pytest.mark.parametrize("kind", ["conv3d", "conv2d"])
def test_discriminator_heads(kind):
    d = models.build_discriminator(kind, size="lite")
    showers = np.random.default_rng(0).exponential(1e-3, (2, 25, 25, 25)).astype(np.float32)
    generation, auxiliary, ecal = (np.asarray(t) for t in d(showers, training=False))
    assert generation.shape == auxiliary.shape == ecal.shape == (2, 1)
    assert ((generation > 0) & (generation < 1)).all()
    assert ecal[:, 0] == pytest.approx(showers.sum(axis=(1, 2, 3)), rel=1e-5)


def test_latent_vectors_scale_with_energy_and_seed():
    z = models.latent_vectors(np.array([100.0, 200.0]), seed=3)
    assert z.shape == (2, 200) and z.dtype == np.float32
    z2 = models.latent_vectors(np.array([100.0, 200.0]), seed=3)
    assert z.tobytes() == z2.tobytes()
    assert np.std(z[1]) > np.std(z[0])


def test_multiply_accumulates_by_hand_and_for_the_paper_models():
    import keras

    inp = keras.Input((4, 4, 3))
    out = keras.layers.Conv2D(5, 3, padding="valid")(inp)
    out = keras.layers.Dense(7)(keras.layers.Flatten()(out))
    m = keras.Model(inp, out)
    assert models.multiply_accumulates(m) == 2 * 2 * 9 * 3 * 5 + 20 * 7
    gmac = {k: models.multiply_accumulates(models.build_generator(k)) / 1e9 for k in ("conv3d", "conv2d")}
    assert gmac["conv3d"] == pytest.approx(0.256, abs=0.001)
    assert gmac["conv2d"] == pytest.approx(1.16, abs=0.01)


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="conv3d"):
        models.build_generator("conv4d")
    with pytest.raises(ValueError, match="conv2d"):
        models.build_discriminator("mlp")


def test_sphere_latents_carry_the_primary_energy_exactly_and_normal_ones_are_the_studys():
    energies = np.array([2.0, 100.0, 500.0] * 50)
    sphere = models.latent_vectors(energies, seed=7)
    normal = models.latent_vectors(energies, seed=7, norm="normal")
    np.testing.assert_allclose(models.latent_energy_gev(sphere), energies, rtol=1e-5)
    spread = np.std(models.latent_energy_gev(normal) / energies)
    assert 0.03 < spread < 0.07  # 1 / sqrt(400) = 5 %
    cos = np.sum(sphere * normal, axis=1) / np.linalg.norm(sphere, axis=1) / np.linalg.norm(normal, axis=1)
    np.testing.assert_allclose(cos, 1.0, rtol=1e-5)  # same directions
    rng = np.random.default_rng(7).standard_normal((len(energies), models.LATENT_SIZE), dtype=np.float32)
    np.testing.assert_allclose(normal, energies[:, None] / 100.0 * rng, rtol=1e-6)
    with pytest.raises(ValueError, match="latent norm"):
        models.latent_vectors(energies, seed=7, norm="uniform")


def test_widening_keeps_the_showers_and_the_discriminator_and_breaks_the_copies_symmetry():
    heads = {"small_cell_head": True, "energy_scale_head": True, "depth_fluctuation_head": True}
    narrow = models.build_generator("conv2d", size=0.125, seed=3, **heads)
    wide = models.build_generator("conv2d", size=0.25, seed=4, **heads)
    assert models.count_parameters(wide)["total"] > 2 * models.count_parameters(narrow)["total"]
    assert models.widen_weights(narrow, wide, seed=5) == len([la for la in wide.layers if la.weights])
    z = models.latent_vectors(np.array([2.0, 30.0, 150.0, 480.0]), seed=6)
    a, b = narrow(z, training=False).numpy(), wide(z, training=False).numpy()
    assert a.max() > 0 and np.abs(a - b).max() <= 1e-5 * a.max()
    # the four copies of a channel get different shares of the next layer's incoming weights
    kernel = next(la for la in wide.layers if "conv2d_transpose" in la.name).kernel.numpy()
    copies = kernel[..., : kernel.shape[-1] // 2], kernel[..., kernel.shape[-1] // 2:]
    assert not np.allclose(*copies)
    d_narrow, d_wide = (models.build_discriminator("conv2d", size=s, seed=7) for s in (0.125, 0.25))
    models.widen_weights(d_narrow, d_wide, seed=8)
    for x, y in zip(d_narrow(a, training=False), d_wide(a, training=False)):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-4, atol=1e-5)


def test_widening_refuses_another_topology():
    with pytest.raises(ValueError, match="topology"):
        models.widen_weights(models.build_generator("conv2d", size=0.125),
                             models.build_generator("conv2d", size=0.25, small_cell_head=True), seed=1)


def test_transfer_weights_copies_the_shared_layers_whichever_side_has_a_head():
    import numpy as np

    plain = models.build_generator("conv2d", size=0.125)
    headed = models.build_generator("conv2d", size=0.125, small_cell_head=True, energy_scale_head=True)
    n_plain = len([layer for layer in plain.layers if layer.weights])
    assert models.transfer_weights(plain, headed) == n_plain
    back = models.build_generator("conv2d", size=0.125)
    assert models.transfer_weights(headed, back) == n_plain
    for a, b in zip(plain.weights, back.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
