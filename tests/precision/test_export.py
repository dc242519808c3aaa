"""Inference graphs: the Conv2DTranspose rewrite is exact; frozen graphs reproduce Keras."""

from __future__ import annotations

import numpy as np
import pytest

from gan3d_lib.precision import export
from gan3d_lib.models.models import build_generator, latent_vectors


@pytest.mark.parametrize("size_in,stride,kernel,bias", [(5, 3, 5, True), (15, 2, 5, True), (7, 2, 3, False), (4, 3, 4, True)])
def test_phase_decomposed_transposed_convolution_is_exact(size_in, stride, kernel, bias):
    import keras

    layer = keras.layers.Conv2DTranspose(6, kernel, strides=stride, padding="same", use_bias=bias)
    x = np.random.default_rng(1).standard_normal((3, size_in, size_in, 4)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(layer(x))
    if bias:
        layer.bias.assign(np.random.default_rng(2).standard_normal(6).astype(np.float32))
        expected = keras.ops.convert_to_numpy(layer(x))
    got = keras.ops.convert_to_numpy(export.PhaseConv2DTranspose(layer)(x))
    assert got.shape == expected.shape == (3, size_in * stride, size_in * stride, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_phase_kernel_rejects_non_square_kernels():
    with pytest.raises(ValueError, match="square"):
        export.phase_kernels(np.zeros((3, 5, 2, 2), np.float32), 2)


def test_phases_hold_exactly_the_kernel_taps():
    kernel = np.random.default_rng(0).standard_normal((5, 5, 3, 2)).astype(np.float32)
    phases = export.phase_kernels(kernel, 3)
    assert len(phases) == 9 and sum(p.size for p in phases) == kernel.size
    np.testing.assert_allclose(sorted(np.concatenate([p.ravel() for p in phases])), sorted(kernel.ravel()))


@pytest.mark.parametrize("transposed_as_conv", [True, False])
def test_frozen_graph_reproduces_the_keras_generator(tmp_path, transposed_as_conv):
    gen = build_generator("conv2d", size=0.125, seed=4)
    z = latent_vectors(np.array([5.0, 50.0, 400.0], np.float32), seed=1)
    expected = gen(z, training=False).numpy()
    graph = export.frozen_graph(gen, transposed_as_conv=transposed_as_conv)
    ops = export.graph_op_counts(graph)
    assert ("Conv2DBackpropInput" in ops) != transposed_as_conv
    path = export.write_graph(graph, tmp_path / "g.pb")
    got = export.load_graph(path)(z)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * float(np.abs(expected).max()))


def test_load_graph_names_a_bad_file(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_bytes(b"\x00not a graph")
    with pytest.raises(ValueError, match="bad.pb"):
        export.load_graph(bad)
