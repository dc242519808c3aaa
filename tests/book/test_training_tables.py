"""Chapter 2's tables from records: the ablation's rows and sentences, the runs' history, the recipe."""

import json
import re
from pathlib import Path

import jupytext
import pytest

from gan3d_lib.book.training_tables import (ablation_rows, ablation_table, ablation_text, generator_comparison_rows,
                                            generator_comparison_table, generator_comparison_text, recipe_rows,
                                            run_history_rows)


def _record(what, goals, fpd, auc_high=0.99, auc_low=1.0, err=0.002):
    return {"what": what, "goals_met": goals, "goals_total": 16, "fpd": fpd, "fpd_err": err, "auc_high": auc_high,
            "auc_high_err": err, "auc_low": auc_low, "auc_low_err": err}


RECORDS = {"reference": _record("nothing", 15, 0.100), "reference_seed42": _record("nothing, another seed", 15, 0.106),
           "no_hits": _record("the hits term", 13, 0.130), "no_rings": _record("the rings term", 15, 0.110),
           "no_bce": _record("the BCE", 16, 0.060, auc_high=0.95), "no_aux": _record("the aux term", 14, 0.101)}


def test_a_change_counts_only_beyond_twice_the_errors_and_the_seed_spread():
    rows = {r["arm"]: r for r in ablation_rows(RECORDS)}
    # sigma = sqrt(0.002^2 + 0.002^2 + 0.006^2) = 0.0066: +0.010 is within 2 sigma, +0.030 beyond
    assert not rows["no_rings"]["fpd_shift"]["significant"]
    assert rows["no_hits"]["fpd_shift"]["significant"] and rows["no_hits"]["fpd_shift"]["delta"] == pytest.approx(0.03)
    assert rows["no_bce"]["auc_high_shift"]["significant"] and rows["no_bce"]["goals_change"] == 1
    assert not rows["no_bce"]["goals_significant"] and rows["no_hits"]["goals_significant"]  # one goal is chance
    assert "(+0.030*)" in ablation_table(list(rows.values()))


def test_the_sentences_have_one_branch_each_for_worse_better_and_within_noise():
    text = ablation_text(ablation_rows(RECORDS))
    assert "Without the hits term (2 goals fewer met, FPD), the generator got worse" in text
    assert "Without the BCE (FPD, high-level AUC), it got better." in text
    assert "Without the rings term, the aux term, nothing changed beyond the noise" in text
    assert "another seed" not in text


def test_no_reference_record_is_an_error_naming_what_is_there():
    with pytest.raises(KeyError, match="reference arm 'reference'.*no_hits"):
        ablation_rows({"no_hits": RECORDS["no_hits"]})


def _run(folder, history_seconds, **settings):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(settings))
    (folder / "history.json").write_text(json.dumps({"history": [{"seconds": s} for s in history_seconds]}))
    return folder


def test_each_run_lists_the_settings_it_changed_from_the_run_it_started_from(tmp_path):
    first = _run(tmp_path / "first", [1800, 1800], weight_hits=0.0)
    second = _run(tmp_path / "second", [360], weight_hits=10.0, seed=7, init_generator=str(first))
    orphan = _run(tmp_path / "orphan", [36], init_generator=str(tmp_path / "renamed"))
    rows = {r["run"]: r for r in run_history_rows([first, second, orphan], [first, second])}
    assert rows["first"]["changes"] == "(from scratch)" and rows["first"]["hours"] == pytest.approx(1.0)
    assert rows["second"]["changes"] == "weight_hits=10" and rows["second"]["started_from"] == "first"
    assert (rows["orphan"]["changes"], rows["orphan"]["kind"]) == ("?", "experiment")


def test_the_recipe_rows_are_the_components_switched_on():
    rows = recipe_rows({"weight_bce": 6.0, "weight_hits": 0.0, "small_cell_head": True, "energy_scale_head": False,
                        "cell_power": 1.0, "latent_norm": "sphere", "generator_as_deployed": False})
    assert [r["setting"] for r in rows] == ["weight_bce", "small_cell_head", "latent_norm"]
    assert all(r["what"] for r in rows)


# Chapter 2 is a paper section (issue 35): at most 1 500 words of prose.
CHAPTER_2 = Path(__file__).resolve().parents[2] / "notebooks" / "02_training.py"


def prose_words(path: Path) -> int:
    """Words of the markdown cells, less tables and the reference list (a glued number counts as one)."""
    text = "\n".join(c.source for c in jupytext.read(path).cells if c.cell_type == "markdown")
    text = text.split("## Resources and references")[0]
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("|")]
    return len(re.findall(r"\S+", "\n".join(lines)))


def test_chapter_2_has_at_most_1500_words_of_prose():
    assert 500 < prose_words(CHAPTER_2) <= 1500, prose_words(CHAPTER_2)


def _judged(goals, fpd, auc_high, err=0.001):
    return {"goals_by_latent_seed": {str(s): {"met": g, "missed": [] if g == 16 else ["250-500 GeV hits"]}
                                     for s, g in zip((92, 93, 94), goals)},
            "fpd": fpd, "fpd_err": err, "auc_high": auc_high, "auc_high_err": err, "auc_low": 1.0, "auc_low_err": 0.0}


def test_the_generator_comparison_lists_goals_per_seed_and_each_measure_with_its_error():
    rows = generator_comparison_rows({"recipe": _judged((16, 15, 16), 0.08, 0.95), "stage 14": _judged((16,) * 3, 0.1, 1.0)})
    assert rows[0]["goals"] == "16 / 15 / 16" and rows[0]["seeds"] == "92 / 93 / 94"
    assert rows[0]["missed"] == "250-500 GeV hits" and rows[1]["missed"] == "–"
    assert rows[0]["auc_high"].startswith("0.95") and "±" in rows[0]["fpd"]
    assert re.search(r"\| recipe +\| 92 / 93 / 94 +\| 16 / 15 / 16 ", generator_comparison_table(rows))


def test_the_comparison_has_a_sentence_for_lower_higher_and_within_errors():
    text = generator_comparison_text(_judged((16, 15, 16), 0.08, 1.0), _judged((16,) * 3, 0.1, 0.9),
                                     candidate_label="the recipe", shipped_label="stage 14")
    assert "FPD 0.08 against 0.1" in text and "lower for the recipe" in text
    assert "high-level AUC 1 against 0.9" in text and "higher for the recipe" in text
    assert "low-level AUC 1 against 1 (+0, twice the combined error 0): the same within the errors" in text
    assert "The recipe meets 15 to 16 of 16 goals" in text and "Stage 14 meets 16 of 16 goals at each of the 3" in text
