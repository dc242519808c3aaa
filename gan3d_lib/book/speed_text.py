"""Sentences of chapter 4 built from its measurements only.

Every comparison has one branch per outcome: faster, slower, or not resolved (the
difference from 1 is within the back-to-back noise of that ratio). No sentence names a
cause; where a hypothesis is offered it says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["noise_of", "compare_sentence", "conv3d_paragraph", "int8_paragraph", "profile_paragraph", "spread_sentence"]


def noise_of(first: float | None, second: float | None) -> float | None:
    """Relative difference |second / first - 1| of a ratio measured twice back to back."""
    if not first or not second:
        return None
    return abs(second / first - 1.0)


def compare_sentence(subject: str, other: str, ratio: float | None, noise: float | None, setting: str) -> str:
    """'<subject> ran <ratio>x as fast as <other> (<setting>)' with the outcome: faster,
    slower, or not resolved where |ratio - 1| does not exceed the noise."""
    if ratio is None:
        return f"{subject} against {other} was not measured here ({setting})."
    margin = noise if noise is not None else 0.0
    head = f"{subject} ran {ratio:.2f}x as fast as {other} ({setting}"
    head += f"; back-to-back noise {100 * noise:.0f} %)" if noise is not None else ")"
    if abs(ratio - 1.0) <= margin:
        return head + ": the difference is not resolved."
    return head + (": faster." if ratio > 1.0 else ": slower.")


def conv3d_paragraph(ratio: float | None, noise: float | None, *, macs_ratio: float, fraction_conv2d: float | None,
                     fraction_conv3d: float | None, setting: str, study: float = 2.1) -> str:
    """The Conv2D-vs-Conv3D paragraph: the measured ratio with its outcome, the MACs per shower
    and the fractions of the measured FP32 GEMM peak each graph reaches, the study's value,
    and a hypothesis labelled as such."""
    parts = [compare_sentence("The paper-size Conv2D generator", "the Conv3D one", ratio, noise, setting)]
    parts.append(f"It does {macs_ratio:.1f}x the multiply-accumulates per shower.")
    if fraction_conv2d is not None and fraction_conv3d is not None:
        parts.append(f"Its graph reaches {100 * fraction_conv2d:.0f} % of the measured FP32 matrix-product rate, the "
                     f"Conv3D graph {100 * fraction_conv3d:.0f} %.")
    if ratio is not None:
        gap = "below" if ratio < study else "at or above"
        parts.append(f"The study measured {study:g}x; this CPU is {gap} it. Hypothesis, not measured here: the study "
                     "ran TensorFlow 1 era kernels, whose 2D and 3D convolutions may have differed in efficiency "
                     "from today's.")
    return " ".join(parts)


def int8_paragraph(rows: Sequence[Mapping], noise: Mapping[tuple[str, str], float | None], *,
                   int8_limit: float, vnni: bool) -> str:
    """One sentence per INT8 row of the speed-up table (``claim``, ``setting``, ``ours``,
    ``paper``, optional ``gate``) with its outcome against 1, where the study quoted a value,
    against it, and where the row's INT8 search ended without passing the gate, that."""
    out = []
    for r in rows:
        n = noise.get((r["claim"], r["setting"]))
        s = compare_sentence(r["claim"].split(" vs ")[0], r["claim"].split(" vs ")[-1], r["ours"], n, r["setting"])
        if r.get("paper") and r["ours"] is not None:
            s += f" The study quoted {r['paper']:g}x for its tuned INT8."
        if r.get("gate", "").startswith("failed"):
            s += (" Its search found no configuration that passes the physics gate, so this speed is not one of a "
                  f"usable generator ({r['gate']}).")
        out.append(s)
    out.append(f"This CPU's arithmetic limit for INT8 over FP32 is {int8_limit:.0f}x ({'with' if vnni else 'without'} "
               "VNNI).")
    return " ".join(out)


def _algorithms(profile: Mapping) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in profile.get("ops", []):
        for alg, n in o.get("detail", {}).get("algorithms", {}).items():
            out[alg] = out.get(alg, 0) + n
    return out


def profile_paragraph(first: Mapping, second: Mapping, label_first: str, label_second: str, *, top: int = 2) -> str:
    """Sentences from two :func:`profiles.op_profile` results: the time per batch of each, the
    op types whose times differ most (both values given), and, for oneDNN profiles, which
    convolution algorithms ran (whether any was Winograd). Nothing beyond what they measured."""
    if "skipped" in first or "skipped" in second:
        return f"No per-op profile of {label_first if 'skipped' in first else label_second} is offered by its runtime."
    a = {o["op"]: o["ms"] for o in first["ops"]}
    b = {o["op"]: o["ms"] for o in second["ops"]}
    diffs = sorted(set(a) | set(b), key=lambda op: -abs(a.get(op, 0.0) - b.get(op, 0.0)))[:top]
    parts = [f"Per batch of {first['batch_size']} with {first['threads']} threads, {label_first} took "
             f"{first['wall_ms']:.3g} ms and {label_second} {second['wall_ms']:.3g} ms."]
    parts.append("The op types whose times differ most: " + "; ".join(
        f"{op}, {a.get(op, 0.0):.3g} ms against {b.get(op, 0.0):.3g} ms" for op in diffs) + ".")
    algs = {label_first: _algorithms(first), label_second: _algorithms(second)}
    if any(algs.values()):
        said = [f"{lab}: " + ", ".join(f"{alg} x{n}" for alg, n in sorted(al.items())) for lab, al in algs.items() if al]
        wino = [lab for lab, al in algs.items() if any("winograd" in k for k in al)]
        parts.append("Convolution algorithms in oneDNN's log (executions): " + "; ".join(said) + ". "
                     + (f"Winograd ran in {', '.join(wino)}." if wino else "None ran as Winograd."))
    return " ".join(parts)


def spread_sentence(rows: Sequence[Mapping], noise: float | None = None) -> str:
    """One sentence over (``runtime``, ``threads``, ``ratio``) rows of Conv2D over Conv3D speed:
    the range and how many settings were faster, slower or within ``noise`` of 1."""
    rows = [r for r in rows if r.get("ratio") is not None]
    if not rows:
        return "Conv2D against Conv3D was measured in no other runtime or thread count here."
    lo, hi = min(rows, key=lambda r: r["ratio"]), max(rows, key=lambda r: r["ratio"])
    margin = noise or 0.0
    faster = sum(r["ratio"] > 1 + margin for r in rows)
    slower = sum(r["ratio"] < 1 - margin for r in rows)
    return (f"Across {len(rows)} settings (runtime x threads) the Conv2D generator ran {lo['ratio']:.2f}x "
            f"({lo['runtime']}, {lo['threads']} threads) to {hi['ratio']:.2f}x ({hi['runtime']}, {hi['threads']} threads) "
            f"as fast as the Conv3D one: faster in {faster}, slower in {slower}, not resolved in "
            f"{len(rows) - faster - slower}.")
