"""The learned layer of the input check: a hashed n-gram linear model.

Rules fitted to named sources carry over poorly to attacks written elsewhere, so beside them a
logistic regression over hashed word and character n-grams scores each message.  It was trained
by ``bench/train_guard_model.py`` (scikit-learn, fixed seed) on public data; the weights ship in
``escalation/models/learned_injection.json`` and are read once.  Scoring is pure Python,
linear in the input and bounded: at most ``MAX_SCANNED`` characters are read.

``features`` is the one definition of the model's input: the training script builds its matrix
with it, so training and scoring cannot drift apart.
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import math
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from escalation.normalize import nfkc_bounded

__all__ = ["DETAIL", "MAX_SCANNED", "RULE", "LearnedModel", "features", "flags", "load", "score"]

RULE = "learned_injection"
DETAIL = "a model trained on public attacks scored it as an injection or jailbreak"
MAX_SCANNED = 4096  # the head and tail of a longer text: an order can hide at either end
N_BUCKETS = 1 << 20
CHAR_NGRAMS = (3, 4, 5)
_WORD = re.compile(r"\w+")  # a single-class run: no nesting, so no backtracking
_MODEL_FILE = "learned_injection.json"


def _prepare(text: str) -> str:
    """Fold case and width, drop invisible format characters, collapse whitespace."""
    if len(text) > MAX_SCANNED:
        half = MAX_SCANNED // 2
        text = text[:half] + "\n" + text[-half:]
    # Bounded like the rules' normalisation: text that grows past it is flagged anyway.
    folded = nfkc_bounded(text).casefold()
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


def _bucket(feature: str) -> int:
    # crc32 is stable across processes and platforms (str.__hash__ is salted per process)
    return zlib.crc32(feature.encode("utf-8")) & (N_BUCKETS - 1)


def _gram_counts(prepared: str) -> Iterator[tuple[str, int]]:
    """Each distinct n-gram with its count, in the order of its first appearance (words, word
    pairs, then character 3-, 4- and 5-grams).  The slices are counted before any prefix is
    added, so a long repetitive text (one NFKC expanded 18-fold) costs little per n-gram."""
    tokens = _WORD.findall(prepared)
    yield from ((f"w:{token}", n) for token, n in collections.Counter(tokens).items())
    pairs = collections.Counter(map(" ".join, itertools.pairwise(tokens)))
    yield from ((f"b:{pair}", n) for pair, n in pairs.items())
    padded = f" {prepared} "
    for size in CHAR_NGRAMS:
        starts = range(len(padded) - size + 1)
        slices = map(slice, starts, range(size, len(padded) + 1))
        grams = collections.Counter(map(padded.__getitem__, slices))
        yield from ((f"c:{gram}", n) for gram, n in grams.items())


def features(text: str) -> dict[int, float]:
    """Bucket -> weight: sublinear counts of word 1-2-grams and character 3-5-grams, L2-normed."""
    counts: dict[int, int] = {}
    # Buckets keep the order of their first n-gram, so the sums below add in the same order
    # whatever the counting does.
    for gram, count in _gram_counts(_prepare(text)):
        bucket = _bucket(gram)
        counts[bucket] = counts.get(bucket, 0) + count
    weights = {bucket: 1.0 + math.log(count) for bucket, count in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {bucket: w / norm for bucket, w in weights.items()}


@dataclass(frozen=True)
class LearnedModel:
    weights: dict[int, float]
    intercept: float
    threshold: float  # on the probability; chosen on a validation split (see the script)

    def probability(self, text: str) -> float:
        margin = self.intercept + sum(
            value * self.weights.get(bucket, 0.0) for bucket, value in features(text).items()
        )
        return 1.0 / (1.0 + math.exp(-margin))


def model_from_json(raw: str) -> LearnedModel:
    data = json.loads(raw)
    if data.get("n_buckets") != N_BUCKETS or data.get("char_ngrams") != list(CHAR_NGRAMS):
        raise ValueError("learned_injection.json was trained with other features")
    weights = {int(bucket): float(w) for bucket, w in data["weights"].items()}
    return LearnedModel(weights, float(data["intercept"]), float(data["threshold"]))


@functools.cache
def load() -> LearnedModel:
    """The shipped model, read once per process."""
    raw = resources.files("escalation").joinpath("models").joinpath(_MODEL_FILE).read_text("utf-8")
    return model_from_json(raw)


def score(text: str) -> float:
    """Probability that ``text`` is an injection or jailbreak, by the shipped model."""
    return load().probability(text)


def flags(text: str) -> bool:
    """Whether the shipped model's score reaches its threshold."""
    model = load()
    return model.probability(text) >= model.threshold
