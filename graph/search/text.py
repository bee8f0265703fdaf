"""One normalisation for indexed names and for queries, so that "Xocali" finds "Xocalı".

Unicode decomposition removes combining marks (ç → c, й → и), but some letters carry no
combining mark to remove: Azerbaijani dotless ı and schwa ə, Nordic ø, Polish ł. Those are
folded by hand to the letter a reader without the keyboard types. Apostrophes are dropped
(so "Mother's" and "Mothers" meet) and every other run of punctuation becomes one space.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

_FOLD = str.maketrans({
    "ı": "i", "İ": "i", "ə": "e", "Ə": "e", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
    "đ": "d", "Đ": "d", "ð": "d", "þ": "th", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
    "ß": "ss", "’": "", "‘": "", "ʼ": "", "'": "", "`": "", "´": "",
})
_NON_WORD = re.compile(r"[\W_]+")

#: Longest query text we accept, in characters: names and quotes are far shorter.
MAX_QUERY_CHARS = 200


def normalise(text: str) -> str:
    """Lower case, no diacritics, Azerbaijani letters folded, punctuation as single spaces."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", bare.casefold().translate(_FOLD)).split())


def tokens(norm: str) -> list[str]:
    return norm.split()


def trigrams(norm: str) -> list[str]:
    """The distinct three-character pieces of a normalised text (spaces included), in order."""
    seen: dict[str, None] = {}
    for i in range(len(norm) - 2):
        seen.setdefault(norm[i : i + 3], None)
    return list(seen)


def similarity(a: str, b: str) -> float:
    """How alike two normalised texts are, 0..1: edit similarity, lifted when the words agree
    in another order ("Human Rights Watch" / "Watch, Human Rights")."""
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    wa, wb = set(a.split()), set(b.split())
    overlap = len(wa & wb) / len(wa | wb) if wa and wb else 0.0
    return max(ratio, overlap * 0.95)
