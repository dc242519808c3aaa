"""What the chapters print and draw: the book runner, presets, the study's claims, chapter rows and sentences, plotting.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "claims": ("SPEED_TOLERANCE", "claim_verdicts"),
    "precisions": ("GATE_CANDIDATES", "ISA_CHECK_BACKENDS", "LABELS", "SIZE_BACKENDS", "WRITTEN_BACKENDS",
                   "fp32_layer_rows", "gate_artefacts", "mse_rows", "op_table_rows", "search_rows", "size_rows"),
    "runner": ("build_html", "execute_all", "one_line_errors"),
    "shower_text": ("breakdown_text", "classifier_goal_text", "goal_display_rows", "goal_summary", "goal_table",
                    "latent_conditioning_rows", "single_feature_text", "spread_ratio_text"),
    "speed_text": ("compare_sentence", "conv3d_paragraph", "int8_paragraph", "profile_paragraph",
                   "spread_sentence"),
    "speedups": ("PRECISION_COMPARISONS", "conv2d_over_conv3d", "speedup_table"),
    "training_tables": ("ablation_rows", "ablation_table", "ablation_text", "generator_comparison_rows",
                        "generator_comparison_table", "generator_comparison_text", "recipe_rows", "run_history_rows",
                        "run_history_table"),
    "validation_tables": ("fp32_row", "per_bin_rows", "score_row", "status_rows"),
    "verdicts": ("conclusion_text", "gate_verdicts"),
}
_MODULES = ("claims", "plotting", "precisions", "presets", "runner", "shower_text", "speed_text", "speedups",
            "training_tables", "validation_tables", "verdicts")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
