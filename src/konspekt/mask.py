"""Masking an entry's names in a text: the question side of a card must not show its answer.

A name counts in every form the linker knows for it (case, number, adjective agreement,
jargon forms), also inside a longer phrase that names another entry: on the card that
asks for «Образ», «базового образа» becomes «базового […]». The keys come from the same
`Linker` that links the site, so what the linker learns, the masking learns too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .link import Linker, words_of
from .ru import function_word_use, join_key, russian

MASK = "[…]"
# Words joined by these stay one masked stretch: «[…]» rather than «[…]-[…]».
_JOINERS = re.compile(r"[ \t\-/]*")


@dataclass(frozen=True)
class Masker:
    """Masks the names of one entry; build with `Masker.of(linker, entry_id)`."""

    keys: frozenset[tuple[str, ...]]
    longest: int
    # The first word of every key: a word that starts none is passed over at once.
    starts: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", frozenset(key[0] for key in self.keys))

    @classmethod
    def of(cls, linker: Linker, entry_id: str) -> Masker:
        return cls.of_keys(linker.keys_of(entry_id))

    @classmethod
    def of_keys(cls, found: Iterable[tuple[str, ...]]) -> Masker:
        """The masker of an entry whose keys (`Linker.keys_of`) are `found`."""
        keys = frozenset(found)
        return cls(keys, max((len(key) + 1) // 2 for key in keys) if keys else 0)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the entry's names stand in `text`, longest first, left to right."""
        # The linker's words and gaps: emphasis is transparent here too («_базового_ образа»).
        spans, norms, gaps = words_of(text)
        found: list[tuple[int, int]] = []
        i = 0
        while i < len(spans):
            if norms[i] not in self.starts:
                i += 1
                continue
            for n in range(min(self.longest, len(spans) - i), 0, -1):
                key = join_key(norms[i : i + n], gaps[i : i + n - 1])
                if key in self.keys and not self._homonym(norms, gaps, i, n):
                    found.append((spans[i][0], spans[i + n - 1][1]))
                    i += n
                    break
            else:
                i += 1
        return found

    def _homonym(self, norms: Sequence[str], gaps: Sequence[str], i: int, n: int) -> bool:
        # «под нагрузкой» is the preposition, not the Pod: the linker's own rule.
        if n != 1:
            return False
        previous = norms[i - 1] if i >= 1 and gaps[i - 1] == " " else None
        following = (norms[k] for k in range(i + 1, len(norms)) if gaps[k - 1] == " ")
        return function_word_use(russian(), norms[i], previous, following)

    def mask(self, text: str) -> str:
        """`text` with every name replaced by «[…]»; neighbouring names make one mask."""
        return mask_spans(text, self.spans(text))


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    out: list[str] = []
    last = 0
    for start, end in spans:
        if out and out[-1] == MASK and _JOINERS.fullmatch(text[last:start]):
            last = end  # «[…]-[…]», «[…] […]»: one name, one mask
            continue
        opening, closing = _emphasis_inside(text[start:end])
        out += [text[last:start], opening + MASK + closing]
        last = end
    out.append(text[last:])
    return "".join(out)


_EMPHASIS_RUN = re.compile(r"[*_]+")


def _emphasis_inside(words: str) -> tuple[str, str]:
    """The emphasis marks inside masked words, kept around the mask so «**слои** образов»
    becomes «**[…]**», not an emphasis left open: those that open a word, then those that
    close one."""
    opening, closing = [], []
    for run in _EMPHASIS_RUN.finditer(words):
        before = words[run.start() - 1] if run.start() else " "
        after = words[run.end()] if run.end() < len(words) else " "
        if before.isspace() and not after.isspace():
            opening.append(run.group())
        elif after.isspace() and not before.isspace():
            closing.append(run.group())
    return "".join(opening), "".join(closing)
