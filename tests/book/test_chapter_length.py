"""Chapter 2 is a paper section (issue 35): at most 1 500 words of prose."""

import re
from pathlib import Path

import jupytext

CHAPTER_2 = Path(__file__).resolve().parents[2] / "notebooks" / "02_training.py"


def prose_words(path: Path) -> int:
    """Words of the markdown cells, less tables and the reference list (a glued number counts as one)."""
    text = "\n".join(c.source for c in jupytext.read(path).cells if c.cell_type == "markdown")
    text = text.split("## Resources and references")[0]
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("|")]
    return len(re.findall(r"\S+", "\n".join(lines)))


def test_chapter_2_has_at_most_1500_words_of_prose():
    assert 500 < prose_words(CHAPTER_2) <= 1500, prose_words(CHAPTER_2)
