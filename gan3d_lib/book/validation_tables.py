"""Chapter 5's tables of :func:`~gan3d_lib.precision.validate_artefacts` and
:func:`~gan3d_lib.validation.compare` results: one row per artefact or per energy bin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..core.tables import plus_minus
from ..precision.artefact_validation import ArtefactValidation
from ..precision.backends import KERAS_FP32

__all__ = ["status_rows", "score_row", "fp32_row", "per_bin_rows"]


def status_rows(v: ArtefactValidation, fp32: str = KERAS_FP32) -> list[dict]:
    """One row per artefact: name, backend, largest cell difference to FP32 and a status
    ('skipped: ...', 'FP32 reference', 'showers identical to ...', 'differs from FP32')."""
    def status(k: str) -> str:
        if k in v.skipped:
            return "skipped: " + v.skipped[k].split("; ")[-1]
        if k == fp32:
            return "FP32 reference"
        return f"showers identical to {v.same_as[k]}" if v.same_as[k] != k else "differs from FP32"
    return [{"name": k, "backend": v.backends[k], "diff": v.max_diff.get(k), "status": status(k)} for k in v.names]


def score_row(label: str, res: Mapping) -> dict:
    """Table row of a :func:`validation.compare` result over all energies: AUCs, JSDs, FPD,
    KPD x 1e3 (each 'value ± err'), mean separation power, shower-shape MSE, SF ratio."""
    a = res["bins"]["all"]
    kpd = None if a["kpd"] is None else 1e3 * a["kpd"]
    kpd_err = None if a["kpd_err"] is None else 1e3 * a["kpd_err"]
    return {"label": label, **{f"{m}_{k}": plus_minus(a[f"{m}_{k}"], a[f"{m}_{k}_err"]) for m in ("auc", "jsd")
                               for k in ("low", "high")},
            "fpd": plus_minus(a["fpd"], a["fpd_err"], ".4g"), "kpd": plus_minus(kpd, kpd_err, ".3g"),
            "sep": a["separation_power_mean"], "mse": a["shower_shape_mse"], "sf": a["sampling_fraction_ratio"]}


def fp32_row(label: str, res: Mapping) -> dict:
    """:func:`score_row` plus the feature with the largest separation power and the cell-energy one."""
    a = res["bins"]["all"]
    worst = max(res["features"], key=lambda f: a["separation_power"][f])
    return {**score_row(label, res), "worst": f"{worst} ({a['separation_power'][worst]:.3f})",
            "cell": a["separation_power"]["cell_energy"]}


def per_bin_rows(results: Sequence[tuple[str, Mapping]], key: str, bin_labels: Sequence[str], *,
                 err_key: str | None = None, fmt: str = ".2f") -> list[dict]:
    """Rows (label, one column per energy bin) of ``res["bins"][bin][key]`` for each (label, res);
    with ``err_key`` the cells are 'value ± err' strings."""
    def cell(b: Mapping):
        return plus_minus(b[key], b[err_key], fmt) if err_key else b[key]
    return [{"label": label, **{lab: cell(res["bins"][lab]) for lab in bin_labels}} for label, res in results]
