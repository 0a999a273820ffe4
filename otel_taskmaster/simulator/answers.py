"""Deterministic, plausible answers: the same prompt, model and seed give the same tokens.

Answers are built from the prompt's content words: an opener, a few sentences, sometimes a
numbered list, a closer. Tokens are word pieces of at most five letters (about four
characters per token, as with real tokenizers on English text).

>>> a = compose("Explain OpenTelemetry tracing", model="llama3.2", seed=7)
>>> a == compose("Explain OpenTelemetry tracing", model="llama3.2", seed=7)
True
>>> a.done_reason, len(a.pieces) > 20, "".join(a.pieces) == a.text
('stop', True, True)
>>> cut = compose("Explain OpenTelemetry tracing", model="llama3.2", seed=7, max_tokens=5)
>>> len(cut.pieces), cut.done_reason
(5, 'length')
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_PIECE = re.compile(r"\n+|[ ]?[A-Za-z]+|[ ]?\d+|[ ]?[^\sA-Za-z\d]|[ ]+")
_PIECE_LETTERS = 5
_STOPWORDS = frozenset(
    re.findall(
        r"[a-z]+",
        """
        about above after again also been before being could does doing from have having here
        into just more most only other over please same should some such tell than that their
        them then there these they this those through under very want what when where which
        while with would your explain describe give write make show
        """,
    )
)

_OPENERS = (
    "Here is a short answer about {t}.",
    "Good question about {t}.",
    "Let me explain {t} briefly.",
    "{T} is easier to reason about once you split it into parts.",
    "There are a few things worth knowing about {t}.",
)
_SENTENCES = (
    "{T} works best when each part has one clear job.",
    "In practice, {t} depends on the data you feed it and on how you measure the result.",
    "A common mistake is to change {t} and {u} at the same time, which hides the cause.",
    "Start small, check the numbers, and only then tune {t}.",
    "Most teams look at {u} first, because it shows problems with {t} early.",
    "When {t} misbehaves, compare the current numbers with a known good baseline.",
    "The trade-off is usually between speed and accuracy, and {t} is no exception.",
    "Keep an eye on latency, errors and volume; together they describe {t} well.",
    "It helps to write down what {t} should do before measuring what it does.",
    "Good defaults matter more for {t} than clever settings.",
)
_LIST_INTROS = ("A few points to keep in mind:", "Here are the main steps:", "In short:")
_ITEMS = (
    "Keep {t} simple and observable.",
    "Measure {u} before and after each change.",
    "Document the assumptions behind {t}.",
    "Alert on symptoms, not on causes.",
    "Review {t} regularly with real traffic.",
    "Automate the boring parts of {u}.",
)
_CLOSERS = (
    "I hope this helps!",
    "Let me know if you want more detail on {t}.",
    "That should be enough to get started with {t}.",
)
REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I'm sorry, but I can't assist with that request.",
    "I can't help with that. If you have another question, I'm happy to help.",
)
# An answer stuck in a loop runs until something stops it; without num_predict this is it.
REPETITION_LIMIT = 200


@dataclass(frozen=True)
class Answer:
    """The tokens of one answer, in streaming order, and why generation stopped."""

    pieces: tuple[str, ...]
    done_reason: str

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def tokenize(text: str) -> list[str]:
    """Splits text into word pieces the way a streamed answer arrives."""
    pieces: list[str] = []
    for piece in _PIECE.findall(text):
        start = 1 if piece.startswith(" ") else 0
        if len(piece) - start <= _PIECE_LETTERS or not piece[start:].isalpha():
            pieces.append(piece)
            continue
        pieces.append(piece[: start + _PIECE_LETTERS])
        rest = piece[start + _PIECE_LETTERS :]
        pieces.extend(rest[i : i + _PIECE_LETTERS] for i in range(0, len(rest), _PIECE_LETTERS))
    return pieces


def count_tokens(text: str) -> int:
    """Roughly what a tokenizer would count: one token per four characters."""
    return (len(text) + 3) // 4


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _topics(prompt: str) -> tuple[str, str]:
    words = [w for w in _WORD.findall(prompt) if w.lower() not in _STOPWORDS]
    words.sort(key=len, reverse=True)
    first = words[0] if words else "this topic"
    second = next((w for w in words[1:] if w.lower() != first.lower()), "the system")
    return first, second


def _segments(prompt: str, rng: random.Random) -> Iterator[str | None]:
    """An endless answer: the first segments form the natural answer, the rest pad it."""
    t, u = _topics(prompt)
    fill = {"t": t, "u": u, "T": t[:1].upper() + t[1:]}
    yield rng.choice(_OPENERS).format(**fill)
    sentences = list(_SENTENCES)
    rng.shuffle(sentences)
    for text in sentences[: rng.randint(2, 4)]:
        yield " " + text.format(**fill)
    if rng.random() < 0.4:
        yield "\n\n" + rng.choice(_LIST_INTROS)
        items = list(_ITEMS)
        rng.shuffle(items)
        for number, item in enumerate(items[: rng.randint(3, 5)], start=1):
            yield f"\n\n{number}. " + item.format(**fill)
        yield "\n\n"
    else:
        yield " "
    yield rng.choice(_CLOSERS).format(**fill)
    yield None  # the natural end; only exact_tokens reads on into the padding
    while True:
        yield " " + rng.choice(_SENTENCES).format(**fill)


@lru_cache(maxsize=512)
def compose(
    prompt: str,
    *,
    model: str,
    seed: int = 0,
    style: str = "normal",
    max_tokens: int | None = None,
    exact_tokens: int | None = None,
    truncate_at: float | None = None,
) -> Answer:
    """The answer to ``prompt``.

    ``style`` is ``normal``, ``refusal`` or ``repetition``; ``max_tokens`` is Ollama's
    ``num_predict`` (stops with ``length``); ``exact_tokens`` forces the answer's length
    (for benchmarks); ``truncate_at`` cuts the answer at that fraction, ending in ``length``.
    """
    rng = _rng(model, seed, prompt)
    if style == "refusal":
        pieces = tokenize(rng.choice(REFUSALS))
    elif style == "repetition":
        t, _ = _topics(prompt)
        head = tokenize(f"{t[:1].upper() + t[1:]} is important.")
        loop = tokenize(f" {t[:1].upper() + t[1:]} is important because {t} is important.")
        pieces = head
        limit = max_tokens if max_tokens is not None and max_tokens > 0 else REPETITION_LIMIT
        while len(pieces) < limit:
            pieces.extend(loop)
        return Answer(tuple(pieces[:limit]), "length")
    else:
        pieces = []
        for segment in _segments(prompt, rng):
            if segment is None:
                if exact_tokens is None or len(pieces) >= exact_tokens:
                    break
                continue
            pieces.extend(tokenize(segment))
            if exact_tokens is not None and len(pieces) >= exact_tokens:
                break
    done_reason = "stop"
    if exact_tokens is not None:
        pieces = pieces[:exact_tokens]
    elif truncate_at is not None and len(pieces) > 2:
        pieces = pieces[: max(1, int(len(pieces) * truncate_at))]
        done_reason = "length"
    if max_tokens is not None and 0 < max_tokens < len(pieces):
        pieces = pieces[:max_tokens]
        done_reason = "length"
    return Answer(tuple(pieces), done_reason)


def embedding(text: str, *, model: str, dimensions: int, normalize: bool) -> list[float]:
    """A deterministic vector for ``text``; unit length when ``normalize`` (like ``/api/embed``)."""
    return list(_embedding(text, model, dimensions, normalize))


@lru_cache(maxsize=256)
def _embedding(text: str, model: str, dimensions: int, normalize: bool) -> tuple[float, ...]:
    rng = _rng("embed", model, text)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    if normalize:
        norm = sum(v * v for v in values) ** 0.5 or 1.0
        values = [v / norm for v in values]
    return tuple(values)


def token_ids(pieces: tuple[str, ...], *, model: str) -> list[int]:
    """Stable fake token ids (for ``/api/generate``'s ``context``)."""
    return list(_token_ids(pieces, model))


@lru_cache(maxsize=256)
def _token_ids(pieces: tuple[str, ...], model: str) -> tuple[int, ...]:
    return tuple(
        int.from_bytes(hashlib.blake2b(f"{model}\x1f{p}".encode(), digest_size=4).digest()) % 128000
        for p in pieces
    )
