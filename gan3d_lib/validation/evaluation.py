"""A generator against the Monte Carlo at fixed primary energies (sampling fraction, shower
maximum, shower-shape MSE): the check each trained or reduced-precision generator gets."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..physics import observables as obs
from ..data.mc import ShowerSimulator

__all__ = ["compare_at_energies", "shape_mse_metric", "score_artefacts", "epoch_metrics"]


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
    from ..core.errors import HardwareUnsupported

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


def epoch_metrics(fake: np.ndarray, val_showers: np.ndarray, val_energies: np.ndarray, *,
                  score_hits: bool = False) -> dict[str, float]:
    """The per-epoch physics metrics of generated showers ``fake`` (N, 25, 25, 25) GeV against
    held-out Monte Carlo ``val_showers`` for the same primary energies ``val_energies`` (N,) GeV.

    ``val_shower_shape_mse`` (%^2) is dominated by high-energy showers, whose profiles carry
    most of the energy, so the epoch is selected on ``val_score``: the mean over the primary-
    energy bins of the per-bin shape MSE plus (100 * (SF ratio - 1))^2 / 100 plus the square
    of the difference of mean longitudinal barycentres in layers, i.e. a 10 % sampling-
    fraction error or a shower one layer too deep in a bin costs as much as a shape MSE of 1 %^2.
    With ``score_hits`` (runs that train on hits) the score adds (100 * (hits ratio - 1))^2 / 100
    per bin: a 10 % error on the mean number of hits costs the same.
    """
    from ..physics.geometry import HITS_THRESHOLD_GEV

    bins = obs.DEFAULT_ENERGY_BINS_GEV
    mse = obs.shower_shape_mse(fake, val_showers, energies_a_gev=val_energies, energies_b_gev=val_energies, bins_gev=bins)
    sf_fake, sf_real = obs.sampling_fraction(fake, val_energies), obs.sampling_fraction(val_showers, val_energies)
    z_fake = obs.moments(obs.longitudinal_profile(fake))[0]
    z_real = obs.moments(obs.longitudinal_profile(val_showers))[0]
    which = obs.energy_bin_index(val_energies, bins)
    hits_fake = (fake > HITS_THRESHOLD_GEV).sum(axis=(1, 2, 3))
    hits_real = (val_showers > HITS_THRESHOLD_GEV).sum(axis=(1, 2, 3))
    record = {"val_shower_shape_mse": mse["all"],
              "val_sampling_fraction_ratio": float(sf_fake.mean() / sf_real.mean())}
    scores = []
    for b, label in enumerate(obs.energy_bin_labels(bins)):
        sel = which == b
        if not sel.any():
            continue
        ratio = float(sf_fake[sel].mean() / sf_real[sel].mean())
        record[f"val_shower_shape_mse {label}"] = mse[label]
        depth = float(np.nanmean(z_fake[sel]) - np.nanmean(z_real[sel])) if np.isfinite(z_fake[sel]).any() else 25.0
        record[f"val_sampling_fraction_ratio {label}"] = ratio
        record[f"val_depth_diff_layers {label}"] = depth
        hits_ratio = float(hits_fake[sel].mean() / max(hits_real[sel].mean(), 1.0))
        record[f"val_hits_ratio {label}"] = hits_ratio
        score = mse[label] + (100.0 * (ratio - 1.0)) ** 2 / 100.0 + depth**2
        scores.append(score + ((100.0 * (hits_ratio - 1.0)) ** 2 / 100.0 if score_hits else 0.0))
    record["val_score"] = float(np.mean(scores))
    return record
