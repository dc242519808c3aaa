"""A generator against the Monte Carlo at fixed primary energies (sampling fraction, shower
maximum, shower-shape MSE): the check each trained or reduced-precision generator gets."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import observables as obs
from .mc import ShowerSimulator

__all__ = ["compare_at_energies", "shape_mse_metric", "score_artefacts"]


def shape_mse_metric(reference_showers: np.ndarray, reference_energies_gev: np.ndarray, *, seed: int = 1,
                     batch_size: int = 128) -> Callable[[object], float]:
    """``metric(artefact) -> shower_shape_mse`` (%^2) of the artefact's showers, generated for
    the reference energies with latent ``seed``, against the reference (Monte Carlo) showers:
    every artefact is scored on the same showers and the same latent vectors."""
    energies = np.asarray(reference_energies_gev, np.float32)

    def metric(artefact) -> float:
        return obs.shower_shape_mse(artefact.generate(energies, seed, batch_size=batch_size), reference_showers)["all"]

    return metric


def compare_at_energies(
    generate: Callable[[np.ndarray, int], np.ndarray],
    *,
    energies_gev: Sequence[float] = (10.0, 100.0, 400.0),
    n_per_energy: int = 500,
    seed: int = 1,
    simulator: ShowerSimulator | None = None,
) -> dict:
    """Generated versus Monte Carlo showers at each fixed energy.

    Args:
        generate: ``generate(energies_gev (n,), seed) -> showers (n, 25, 25, 25) GeV``.
        energies_gev: primary energies in GeV.
        n_per_energy: showers per energy for both samples.
        seed: energy point i uses Monte Carlo seed ``seed + i`` and generator seed
            ``seed + 1000 + i``.

    Returns:
        {'rows': per-energy dicts with mean sampling fraction (GAN, MC, ratio), peak layer of
        the mean longitudinal profile (GAN, MC, difference), ``shower_shape_mse`` and the
        mean longitudinal profiles in GeV}.
    """
    sim = simulator or ShowerSimulator()
    rows = []
    for i, e in enumerate(energies_gev):
        mc, e_mc = sim.simulate(n_per_energy, seed=seed + i, energy_range_gev=(e, e))
        gan = np.asarray(generate(np.full(n_per_energy, e, np.float32), seed + 1000 + i), dtype=np.float32)
        sf_gan = float(obs.sampling_fraction(gan, e_mc).mean())
        sf_mc = float(obs.sampling_fraction(mc, e_mc).mean())
        prof_gan = obs.longitudinal_profile(gan).mean(axis=0)
        prof_mc = obs.longitudinal_profile(mc).mean(axis=0)
        rows.append({
            "energy_gev": float(e), "n_showers": n_per_energy,
            "sampling_fraction_gan": sf_gan, "sampling_fraction_mc": sf_mc,
            "sampling_fraction_ratio": sf_gan / sf_mc,
            "peak_layer_gan": int(np.argmax(prof_gan)), "peak_layer_mc": int(np.argmax(prof_mc)),
            "peak_layer_diff": int(np.argmax(prof_gan)) - int(np.argmax(prof_mc)),
            "shower_shape_mse": obs.shower_shape_mse(gan, mc)["all"],
            "longitudinal_profile_gan_gev": prof_gan.tolist(), "longitudinal_profile_mc_gev": prof_mc.tolist(),
        })
    return {"rows": rows}


def score_artefacts(artefacts: dict, reference_showers: np.ndarray, reference_energies_gev: np.ndarray, *,
                    seed: int = 1) -> dict[str, dict]:
    """{name: {'mse', 'sampling_fraction_ratio', 'error'}} of each artefact's showers, generated
    for the reference energies with latent ``seed``, against the reference showers. An
    artefact whose runtime cannot run on this CPU gets ``error`` and no numbers."""
    from .artefacts import HardwareUnsupported

    energies = np.asarray(reference_energies_gev, np.float32)
    sf_ref = float(obs.sampling_fraction(reference_showers, energies).mean())
    out = {}
    for name, art in artefacts.items():
        try:
            showers = art.generate(energies, seed)
        except HardwareUnsupported as exc:
            out[name] = {"mse": None, "sampling_fraction_ratio": None, "error": str(exc)}
            continue
        out[name] = {"mse": obs.shower_shape_mse(showers, reference_showers)["all"],
                     "sampling_fraction_ratio": float(obs.sampling_fraction(showers, energies).mean()) / sf_ref,
                     "error": None}
    return out
