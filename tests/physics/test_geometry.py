import numpy as np
import pytest

from gan3d_lib.physics.geometry import SILICON, TUNGSTEN, CalorimeterGeometry


def test_default_geometry_is_the_3dgan_calorimeter():
    g = CalorimeterGeometry()
    assert g.shape == (25, 25, 25)
    assert g.layer_thickness_mm == pytest.approx(2.9)
    assert g.cell_edges_mm()[0][[0, -1]] == pytest.approx([-63.75, 63.75])


def test_effective_material_lies_between_its_components():
    g = CalorimeterGeometry()
    assert TUNGSTEN.radiation_length_mm < g.radiation_length_mm < SILICON.radiation_length_mm
    assert SILICON.z < g.z_eff < TUNGSTEN.z
    # W/Si mixture dominated by tungsten: X0 ~ 4.2 mm, R_M ~ 9.5 mm, ~17 X0 deep
    assert g.radiation_length_mm == pytest.approx(4.20, abs=0.02)
    assert g.moliere_radius_mm == pytest.approx(9.5, abs=0.2)
    assert g.depth_x0 == pytest.approx(17.26, abs=0.05)


def test_mip_sampling_fraction_by_hand():
    g = CalorimeterGeometry()
    si = 0.05 * 2.329 * 1.664
    w = 0.24 * 19.30 * 1.145
    assert g.mip_sampling_fraction == pytest.approx(si / (si + w))
    assert g.mip_deposit_mev == pytest.approx(si)


def test_layer_edges_are_uniform_in_x0():
    g = CalorimeterGeometry()
    edges = g.layer_edges_x0()
    assert edges.shape == (26,)
    assert np.allclose(np.diff(edges), 2.9 / g.radiation_length_mm)


@pytest.mark.parametrize("field,value", [("n_layers", 0), ("cell_size_mm", 0.0), ("active_thickness_mm", -1.0)])
def test_bad_geometry_is_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        CalorimeterGeometry(**{field: value})
