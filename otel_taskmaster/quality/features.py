"""Numeric response features, computed as the answer streams past, with no text on a span.

The instrumentor calls :meth:`ResponseFeatures.add` once per content piece (the hot path:
an append and a count) and :meth:`ResponseFeatures.attributes` once when the response ends.

Feature definitions (all measured on the first ``max_chars`` characters, except ``chars``
and ``words``, which count the whole answer):

``chars``
    Characters in the answer.
``words``
    Whitespace-separated tokens in the answer.
``unique_word_ratio``
    Distinct lower-cased words / words (1.0 for an empty answer). The seed's coherence
    signal; it falls as answers get longer even when nothing repeats.
``ngram_repetition``
    Share of word trigrams that repeat an earlier trigram: ``1 - distinct / total``
    (0.0 with fewer than three words). Natural text stays near 0 at any length; a loop of
    an ``m``-word phrase repeated ``r`` times scores ``1 - m / (m*r - 2)``.
``compression_ratio``
    Raw-deflate size (zlib level 1, 32 KiB window) / UTF-8 size, capped at 1.0 (1.0 for an
    empty answer).
    Low values mean the text repeats itself, also in scripts without spaces.
``structure_markers``
    Count of the characters markdown structure is made of: line breaks (lists, paragraphs),
    colons, ``*`` (bold, italics, bullets), ``#`` (headings), backticks (code) and ``|``
    (tables). Unlike the seed, a hyphen is not structure (it mostly joins words); a ``-``
    bullet list counts through its line breaks.
``refusal``
    A curated refusal phrase occurs in the first :data:`REFUSAL_WINDOW` characters
    (case-insensitive, typographic apostrophes folded).
"""

from __future__ import annotations

import re
import zlib

from otel_taskmaster import semconv

__all__ = ["REFUSAL_PHRASES", "REFUSAL_WINDOW", "ResponseFeatures", "text_features"]

# Phrases a chat model uses to decline, checked only near the start: a refusal leads the
# answer, while the same words deep inside a long answer are usually a caveat.
REFUSAL_PHRASES: tuple[str, ...] = (
    "i can't help with",
    "i cannot help with",
    "i can't assist with",
    "i cannot assist with",
    "i can't provide",
    "i cannot provide",
    "i can't comply",
    "i cannot comply",
    "i can't do that",
    "i cannot do that",
    "i'm unable to",
    "i am unable to",
    "i'm not able to",
    "i am not able to",
    "i won't be able to",
    "i will not be able to",
    "i must decline",
    "i have to decline",
    "i'm sorry, but i can",
    "i am sorry, but i can",
    "sorry, but i can't",
    "sorry, i can't",
    "sorry, i cannot",
    "as an ai language model, i can",
)
REFUSAL_WINDOW = 160


def _trie_pattern(phrases: tuple[str, ...]) -> str:
    # A prefix tree as a regex: the engine tests one first character per position instead
    # of every phrase, which halves the search time on the answer's head.
    tree: dict[str, dict] = {}
    for phrase in phrases:
        node = tree
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + emit(child) if char else "" for char, child in node.items()]
        if len(branches) == 1:
            return branches[0]
        optional = "" in branches
        branches = [b for b in branches if b]
        body = "(?:" + "|".join(branches) + ")"
        return body + "?" if optional else body

    return emit(tree)


_REFUSAL_RE = re.compile(_trie_pattern(REFUSAL_PHRASES))


class ResponseFeatures:
    """Accumulates an answer's pieces and turns them into ``FEATURE_*`` attributes.

    Keeps at most about ``max_chars`` characters (memory stays bounded on endless streams);
    later pieces only add to the character and word counts.

    >>> features = ResponseFeatures()
    >>> for piece in ("Steps:\\n- boil", " water\\n- add tea"):
    ...     features.add(piece)
    >>> attrs = features.attributes("stop")
    >>> attrs["taskmaster.response.words"], attrs["taskmaster.response.structure_markers"]
    (7, 3)
    """

    __slots__ = ("_chars", "_kept", "_max_chars", "_overflow_words", "_parts", "_tail_in_word")

    def __init__(self, max_chars: int = 32768) -> None:
        self._max_chars = max(0, int(max_chars))
        self._parts: list[str] = []
        self._chars = 0
        self._kept = 0
        self._overflow_words = 0
        self._tail_in_word: bool | None = None  # set when the first piece overflows

    def add(self, text: str) -> None:
        """Takes the next piece of the answer; call once per content piece."""
        n = len(text)
        self._chars += n
        if self._kept < self._max_chars:
            self._parts.append(text)
            self._kept += n
        elif n:
            self._count_overflow(text)

    def _count_overflow(self, text: str) -> None:
        # Past the cap only words are counted; a word split across pieces counts once.
        if self._tail_in_word is None:
            last = next((part for part in reversed(self._parts) if part), " ")
            self._tail_in_word = not last[-1].isspace()
        words = len(text.split())
        if words and self._tail_in_word and not text[0].isspace():
            words -= 1
        self._overflow_words += words
        self._tail_in_word = not text[-1].isspace()

    def attributes(self, done_reason: str | None) -> dict[str, int | float | bool]:
        """Returns the ``FEATURE_*`` attributes of everything added so far.

        ``done_reason`` is part of the instrumentor's contract; no feature depends on it
        today (truncation is read from ``gen_ai.response.finish_reasons``).
        """
        text = "".join(self._parts)
        if len(text) <= self._max_chars:
            attrs = text_features(text)
        else:
            attrs = text_features(text[: self._max_chars])
            attrs[semconv.FEATURE_WORDS] = len(text.split())
        if self._overflow_words:
            attrs[semconv.FEATURE_WORDS] = int(attrs[semconv.FEATURE_WORDS]) + self._overflow_words
        attrs[semconv.FEATURE_CHARS] = self._chars
        return attrs


def text_features(text: str) -> dict[str, int | float | bool]:
    """Computes every feature of one complete text (see the module docstring)."""
    words = text.lower().split()
    n_words = len(words)
    unique_ratio = len(set(words)) / n_words if n_words else 1.0
    if n_words > 2:
        trigrams = n_words - 2
        repetition = 1.0 - len(set(zip(words, words[1:], words[2:], strict=False))) / trigrams
    else:
        repetition = 0.0
    raw = text.encode("utf-8", "surrogatepass")
    compression = min(1.0, len(_deflate(raw)) / len(raw)) if raw else 1.0
    return {
        semconv.FEATURE_CHARS: len(text),
        semconv.FEATURE_WORDS: n_words,
        semconv.FEATURE_UNIQUE_WORD_RATIO: unique_ratio,
        semconv.FEATURE_NGRAM_REPETITION: repetition,
        semconv.FEATURE_COMPRESSION_RATIO: compression,
        semconv.FEATURE_STRUCTURE_MARKERS: structure_markers(text),
        semconv.FEATURE_REFUSAL: is_refusal(text),
    }


# zlib keeps this many bytes of lookahead out of the window: matches reach back at most
# window size - 262 bytes.
_MIN_LOOKAHEAD = 262


def _deflate(raw: bytes) -> bytes:
    # Raw deflate (negative wbits): no header or trailer to skew short answers. Level 1 with
    # zlib's full 32 KiB window sees any loop shorter than 32 KiB and, on answers up to the
    # 32,768-character cap in a one-byte script, never slides. A 4 KiB window slid every
    # 4 KiB: an 8,000-character answer's deflate cost 176 µs instead of 112, a
    # 32,768-character one's 895 instead of 194.
    # A shorter answer gets the smallest window that still reaches back over all of it:
    # the same bytes out as with 32 KiB (no match distance is cut), and a fraction of the
    # set-up (a 70-byte answer 51 -> 20 µs, 1 KB 37 -> 16 µs).
    window_bits = min(15, max(9, (len(raw) + _MIN_LOOKAHEAD).bit_length()))
    compressor = zlib.compressobj(1, zlib.DEFLATED, -window_bits)
    return compressor.compress(raw) + compressor.flush()


def structure_markers(text: str) -> int:
    """Counts markdown/list/heading/colon/newline markers (see the module docstring)."""
    # Single-character counts only: each is one fast scan, where a multi-character pattern
    # ("**", "\n- ") costs two to three times as much.
    return (
        text.count("\n")
        + text.count(":")
        + text.count("*")
        + text.count("#")
        + text.count("`")
        + text.count("|")
    )


def is_refusal(text: str) -> bool:
    """True when a refusal phrase occurs in the first :data:`REFUSAL_WINDOW` characters."""
    head = text[:REFUSAL_WINDOW].lstrip().lower().replace("\u2019", "'")
    return _REFUSAL_RE.search(head) is not None
