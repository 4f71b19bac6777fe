"""Add obfuscated variants of short attacks to tests/data/injection/attacks_{dev,test}.txt.

Deterministic and idempotent: variants already in a file are recognised (they are exactly
what this script generates from the other lines) and regenerated, so running it twice gives
the same files.  Each variant stays in the split of the attack it was made from, so dev and
test never share a seed.

Seeds: every second single-line attack of at most 200 characters, in file order.  Each seed
gets one transform, cycling through: zero-width characters between letters, Cyrillic and
Greek look-alikes, letters split by dots, leetspeak, base64, hex, rot13, fullwidth letters,
ASCII smuggled in invisible Unicode tag characters, and zero-width plus look-alikes.

Run from the repository root:  python bench/make_obfuscated.py
"""

from __future__ import annotations

import base64
import codecs
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "injection"
ZWSP = "\u200b"
LOOKALIKES = str.maketrans(
    "aceopxyiAEOPCTHKMBX", "асеорхуіАЕОРСТНКМВХ"
)  # Latin -> Cyrillic (same glyphs)
LEET = str.maketrans("aeiost", "431057")


def zero_width(text: str) -> str:
    return " ".join(ZWSP.join(word) for word in text.split(" "))


def lookalike(text: str) -> str:
    return text.translate(LOOKALIKES)


def dotted(text: str) -> str:
    head = text.split(" ")[:6]
    tail = text.split(" ")[6:]
    return " ".join([".".join(w) for w in head] + tail)


def leet(text: str) -> str:
    return text.translate(LEET)


def as_base64(text: str) -> str:
    return "Reference: " + base64.b64encode(text.encode("utf-8")).decode("ascii")


def as_hex(text: str) -> str:
    return "Order note (hex): " + text.encode("utf-8").hex()


def as_rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def tag_smuggled(text: str) -> str:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in text if 0x20 <= ord(c) <= 0x7E)
    return "Hi, where is my order?" + hidden


def zero_width_lookalike(text: str) -> str:
    return zero_width(lookalike(text))


TRANSFORMS: list[Callable[[str], str]] = [
    zero_width,
    lookalike,
    dotted,
    leet,
    as_base64,
    as_hex,
    as_rot13,
    fullwidth,
    tag_smuggled,
    zero_width_lookalike,
]


def is_seed(line: str) -> bool:
    return "\\n" not in line and len(line) <= 200


def rebuild(lines: list[str]) -> list[str]:
    # A line is a variant if it is a transform of an *earlier* line (variants are appended
    # after their seeds; rot13 is its own inverse, so order decides which one is the seed).
    generated: set[str] = set()
    base: list[str] = []
    for line in lines:
        if line not in generated:
            base.append(line)
        generated.update(t(line) for t in TRANSFORMS)
    seeds = [line for line in base if is_seed(line)][::2]
    variants = [TRANSFORMS[i % len(TRANSFORMS)](seed) for i, seed in enumerate(seeds)]
    return base + variants


def main() -> None:
    for split in ("dev", "test"):
        path = DATA / f"attacks_{split}.txt"
        lines = [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
        rebuilt = rebuild(lines)
        path.write_text("\n".join(rebuilt) + "\n", encoding="utf-8")
        print(f"{path.name}: {len(rebuilt)} lines ({len(rebuilt) - len(lines):+d})")


if __name__ == "__main__":
    main()
