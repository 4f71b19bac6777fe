"""Text normalisation used by the instruction-hierarchy guards.

Everything here is pure and deterministic.  ``normalize`` produces the *matching
variant* of a text: it is meant for pattern matching only and is never shown to
anyone (leetspeak folding, for example, turns ``4ll`` into ``all``).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

# Zero-width and other invisible formatting characters (soft hyphen is handled separately:
# it is stripped but never counted, because copy-paste from web pages produces it innocently).
_ZERO_WIDTH = frozenset(
    {0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF, 0x180E, 0x034F}
)
# Bidi embedding/override/isolate controls ("Trojan Source").  The plain direction marks
# (U+200E, U+200F, U+061C) are stripped but never counted: Arabic and Hebrew text uses them.
_BIDI = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A)})
_BIDI_MARKS = frozenset({0x200E, 0x200F, 0x061C})
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F
_SOFT_HYPHEN = 0x00AD
_WAVING_BLACK_FLAG = 0x1F3F4  # base of emoji subdivision flags, which legitimately use tags

# Look-alike letters (Cyrillic, Greek, Latin variants) mapped to the Latin letter they imitate.
# Applied before case folding so that upper- and lower-case shapes map separately.
_CONFUSABLE_PAIRS = (
    # Cyrillic
    "Аa Вb Еe Ѕs Іi Јj Кk Мm Нh Оo Рp Сc Тt Хx Уy аa еe оo рp сc уy хx ѕs іi їi јj һh ԁd "
    "ԛq ԝw ӏl кk мm нh тt вb гr пn ьb ёe "
    # Greek
    "Αa Βb Εe Ζz Ηh Ιi Κk Μm Νn Οo Ρp Τt Υy Χx αa εe ιi ϲc κk νv οo ρp τt υu χx ωw γy "
    # Latin look-alikes that NFKC keeps
    "ıi ɑa ɡg ɩi ʏy ℓl "
    # Latin small capitals ("ɪɢɴᴏʀᴇ")
    "ᴀa ʙb ᴄc ᴅd ᴇe ꜰf ɢg ʜh ɪi ᴊj ᴋk ʟl ᴍm ɴn ᴏo ᴘp ʀr ꜱs ᴛt ᴜu ᴠv ᴡw ᴢz"
)
_CONFUSABLES = str.maketrans({pair[0]: pair[1] for pair in _CONFUSABLE_PAIRS.split()})
_LEET = str.maketrans("013457@$", "oieastas")
# A whole run of word characters that holds a letter; it starts only where a run starts, so a
# long run of digits is read once, not once per digit.
_LEET_TOKEN = re.compile(r"(?<![a-z0-9@$'])[0-9@$']*+[a-z][a-z0-9@$']*+")
# Three or more single letters split by one repeated separator: "i g n o r e", "i.g.n.o.r.e".
# The separator must repeat, so "p.l.e.a.s.e l.i.s.t" becomes "please list", not one token.
_SPLIT_LETTERS = re.compile(r"(?<![a-z0-9])[a-z]([ .\-_*|/+·•~])(?:[a-z]\1)+[a-z](?![a-z0-9])")
_TWO_LETTERS = re.compile(r"(?<![a-z0-9])[a-z][.\-_*·•][a-z](?![a-z0-9])")
_SEPARATORS = re.compile(r"[ .\-_*|/+·•~]")
_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"\w+")


def _is_invisible(code: int) -> bool:
    return (
        code in _ZERO_WIDTH
        or code in _BIDI
        or code in _BIDI_MARKS
        or _TAG_FIRST <= code <= _TAG_LAST
        or code == _SOFT_HYPHEN
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


@functools.lru_cache(maxsize=64)  # each check strips the same texts several times
def strip_invisible(text: str) -> str:
    """Remove zero-width, bidi-control, tag and variation-selector characters."""
    if text.isascii():  # every invisible character is outside ASCII
        return text
    return "".join(ch for ch in text if not _is_invisible(ord(ch)))


# NFKC can turn one character into 18 ("\ufdfa"): what it makes of a text is cut to twice the
# text (and a little), so what the checks read stays proportional to what they were given.
# ``expands`` tells the guards when that cut hid part of the text.
_MAX_GROWTH = 2
_GROWTH_SLACK = 256  # a few honest expansions in a short message ("ﷺ", "㎏") are not cut


def _growth_limit(text: str) -> int:
    return _MAX_GROWTH * len(text) + _GROWTH_SLACK


@functools.lru_cache(maxsize=64)
def nfkc_bounded(text: str) -> str:
    """NFKC of ``text``, cut where it grows past what the checks read (a text that grows that
    much is flagged ``unchecked_text`` whatever else is found in it)."""
    return _nfkc(text)[: _growth_limit(text)]


@functools.lru_cache(maxsize=16)
def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def expands(text: str) -> bool:
    """True when compatibility normalisation makes ``text`` longer than the checks read."""
    if text.isascii():
        return False
    return len(_nfkc(text)) > _growth_limit(text)


@functools.lru_cache(maxsize=64)  # one check derives the same texts several times
def clean(text: str) -> str:
    """NFKC, invisible characters removed, look-alikes mapped, accents dropped, casefolded.

    Line structure and punctuation are kept, so structural markers ("SYSTEM:" at the
    start of a line, "<|im_start|>") can still be matched.  The typed two characters ``\\n``
    become a line break (never longer than the text given).
    """
    if text.isascii():  # NFKC, look-alikes and accents only concern non-ASCII characters
        return text.lower().replace("\r\n", "\n").replace("\\n", "\n")
    out = nfkc_bounded(strip_invisible(text))
    decomposed = unicodedata.normalize("NFD", out.translate(_CONFUSABLES))
    out = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return out.casefold().replace("\r\n", "\n").replace("\\n", "\n")


def _fold_leet(match: re.Match[str]) -> str:
    token = match.group(0)
    if token.isalpha():
        return token
    return token.translate(_LEET)


@functools.lru_cache(maxsize=64)
def normalize(text: str) -> str:
    """Return the single-line matching variant of ``text``.

    NFKC, invisible characters removed, look-alike letters mapped to Latin, accents dropped,
    casefolded, light leetspeak folded inside words that contain a letter (``1gn0r3`` ->
    ``ignore``; bare numbers are kept), letters split by spaces or punctuation joined
    (``i.g.n.o.r.e`` -> ``ignore``), whitespace collapsed.
    """
    out = _LEET_TOKEN.sub(_fold_leet, clean(text))
    out, joined = _SPLIT_LETTERS.subn(lambda m: _SEPARATORS.sub("", m.group(0)), out)
    if joined >= 2:  # a dotted-out sentence: join its two-letter words too ("n.o" -> "no")
        out = _TWO_LETTERS.sub(lambda m: m.group(0)[0] + m.group(0)[2], out)
    return _SPACES.sub(" ", out).strip()


def squash(normalized: str) -> str:
    """Drop everything but letters and digits (catches "Ig nore previ ous prompt")."""
    return _NON_ALNUM.sub("", normalized)


def words(text: str) -> list[str]:
    """Normalised word sequence, used to compare an answer with the system prompt."""
    return [w for w in _NON_ALNUM.split(normalize(text)) if w]


@dataclass(frozen=True)
class HiddenInfo:
    """What a text hides: invisible characters, ASCII smuggled in tag characters, mixed scripts."""

    invisible: int
    tag_text: str
    mixed_script_words: int


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def analyse_hidden(text: str) -> HiddenInfo:
    """Count suspicious invisible characters and look-alike words in the raw text.

    Zero-width joiners inside emoji sequences, emoji flag tag sequences, a leading byte
    order mark and soft hyphens are not counted: they occur in ordinary messages.
    """
    suspicious = 0
    tags: list[str] = []
    in_flag = False
    for i, ch in enumerate(text):
        code = ord(ch)
        if _TAG_FIRST <= code <= _TAG_LAST:
            in_flag = in_flag or (i > 0 and ord(text[i - 1]) == _WAVING_BLACK_FLAG)
            if not in_flag and 0xE0020 <= code <= 0xE007E:
                tags.append(chr(code - _TAG_FIRST))
                suspicious += 1
            continue
        in_flag = False
        if code in _BIDI or (code in _ZERO_WIDTH and not (code == 0xFEFF and i == 0)):
            if code in (0x200C, 0x200D):  # joiners are legitimate outside Latin words
                prev = text[i - 1] if i > 0 else ""
                nxt = text[i + 1] if i + 1 < len(text) else ""
                if not (_ascii_alnum(prev) or _ascii_alnum(nxt)):
                    continue
            suspicious += 1
    mixed = 0
    visible = nfkc_bounded(strip_invisible(text))
    for word in _WORD.findall(visible):
        if word.isascii():  # Latin letters only: not mixed
            continue
        scripts = {_script(ch) for ch in word if ch.isalpha()}
        if "latin" in scripts and len(scripts) > 1:
            mixed += 1
    return HiddenInfo(suspicious, "".join(tags), mixed)


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    for script in ("LATIN", "CYRILLIC", "GREEK"):
        if name.startswith(script):
            return script.lower()
    return "other"


# --- decoding of encoded blobs -------------------------------------------------------------

_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?:(?:0x|\\x)?[0-9a-fA-F]{2}[\s:,]?){12,}")
_PERCENT = re.compile(r"(?:%[0-9a-fA-F]{2}){6,}")


def _as_text(raw: bytes) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not decoded:
        return None
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in decoded)
    letters = sum(ch.isalpha() for ch in decoded)
    if printable / len(decoded) < 0.95 or letters / len(decoded) < 0.5 or " " not in decoded:
        return None
    return decoded


def decoded_payloads(text: str) -> list[tuple[str, str]]:
    """Readable text hidden in base64, hex or percent-encoded blobs: (encoding, decoded)."""
    found: list[tuple[str, str]] = []
    for blob in _B64.findall(text):
        raw = blob.rstrip("=").replace("-", "+").replace("_", "/")
        try:
            decoded = _as_text(base64.b64decode(raw + "=" * (-len(raw) % 4)))
        except (binascii.Error, ValueError):
            decoded = None
        if decoded:
            found.append(("base64", decoded))
    for blob in _HEX.findall(text):
        digits = re.sub(r"0x|\\x|[\s:,]", "", blob)
        if len(digits) % 2 == 0:
            decoded = _as_text(bytes.fromhex(digits))
            if decoded:
                found.append(("hex", decoded))
    for blob in _PERCENT.findall(text):
        found.append(("url-encoding", urllib.parse.unquote(blob)))
    decoded_morse = morse(text)
    if decoded_morse:
        found.append(("morse", decoded_morse))
    return found


# International Morse: each entry is the character followed by its code.
_MORSE_TABLE = (
    "a.- b-... c-.-. d-.. e. f..-. g--. h.... i.. j.--- k-.- l.-.. m-- n-. o--- p.--. q--.- r.-. "
    "s... t- u..- v...- w.-- x-..- y-.-- z--.. 0----- 1.---- 2..--- 3...-- 4....- 5..... 6-.... "
    "7--... 8---.. 9----. ..-.-.- ,--..-- ?..--.."
)
_MORSE = {entry[1:]: entry[0] for entry in _MORSE_TABLE.split()}
_MORSE_TEXT = re.compile(r"^[\s.\-/|]+$")


def morse(text: str) -> str | None:
    """Decode International Morse (letters split by spaces, words by 2+ spaces or '/')."""
    stripped = text.strip()
    if len(stripped) < 20 or not _MORSE_TEXT.match(stripped):
        return None
    decoded_words = []
    for word in re.split(r"\s{2,}|\s*[/|]\s*", stripped):
        letters = [_MORSE.get(code, "") for code in word.split()]
        decoded_words.append("".join(letters))
    decoded = " ".join(w for w in decoded_words if w)
    return decoded if sum(ch.isalpha() for ch in decoded) >= 8 else None


def rot13(text: str) -> str:
    return codecs.encode(text, "rot13")
