"""Search text: what a record is found by, in the spellings people type.

PostgreSQL stems Russian and English (its ``russian`` and ``english`` configurations); it has
no Kyrgyz, Uzbek or Tajik stemmer (its ``turkish`` one expects Turkish in Latin letters). For
those the record's words are *folded*: written in one Latin spelling (Kyrgyz Cyrillic and the
Latin spellings in use meet: Чыңгыз Айтматов, Chyngyz Aitmatov and Chingiz Aytmatov all fold
to ``chingiz aitmatov``), indexed without stemming, and matched by prefix, which serves an
agglutinative language where endings follow the stem (китеп finds китептер, китептин);
trigram similarity on the folded text forgives typos."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Kyrgyz, Russian, Uzbek (Cyrillic) and Tajik letters to Latin.
CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "j",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "ң": "ng",
    "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ү": "u",
    "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya", "ә": "a", "ғ": "g", "қ": "k", "ҳ": "h",
    "ӯ": "u", "ӣ": "i", "ҷ": "j", "ў": "u",
}  # fmt: skip
# Latin spellings that mean one sound, folded to one (after the letters above).
LATIN = (
    ("dzh", "j"), ("dj", "j"), ("zh", "j"), ("kh", "h"), ("x", "h"), ("q", "k"),
    ("ö", "o"), ("ü", "u"), ("ñ", "ng"), ("ı", "y"), ("ş", "sh"), ("ç", "ch"), ("ğ", "g"),
    ("w", "v"),
)  # fmt: skip
NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """``text`` in the folded Latin spelling: lower case, Cyrillic transliterated, the
    spellings of one sound made one, ``y`` and ``i`` made one (Kyrgyz ы and й are written
    both ways), anything else a space."""
    lowered = text.lower()
    latin = "".join(CYRILLIC.get(ch, ch) for ch in lowered)
    for spelled, folded in LATIN:
        latin = latin.replace(spelled, folded)
    # Accents left over (é, ä ...) lose their marks.
    latin = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    latin = latin.replace("y", "i")
    return " ".join(NOT_WORD.sub(" ", latin).split())


def folded_words(text: str) -> list[str]:
    return fold(text).split()


def record_words(
    *,
    title: str,
    subtitle: str | None,
    authors: Iterable[str],
    subjects: Iterable[str],
    publisher: str | None,
    school_subject: str | None,
    isbn: str | None,
) -> tuple[str, str]:
    """The text a record is searched by, as written and folded."""
    parts = [title, subtitle or "", *authors, *subjects, publisher or "", school_subject or ""]
    words = " ".join(p.strip() for p in parts if p and p.strip())
    if isbn:
        words = f"{words} {isbn}"
    return words, fold(words)
