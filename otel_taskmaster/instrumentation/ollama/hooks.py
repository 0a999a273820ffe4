"""The hook the instrumentor runs on a call's span just before it ends the span.

The span still takes attributes and events then, which ``on_end`` of a span processor no
longer can. The configurator installs the quality processor's ``score_ending`` here as the
default for instrumentors on the global providers, whether ``opentelemetry-instrument``
or the app calls ``instrument()``; an ``ending_hook`` passed to ``instrument()`` wins.
An instrumentor given its own ``tracer_provider`` takes no default: a hook set up for the
global providers would score spans of another pipeline.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.trace import Span

__all__ = ["EndingHook", "default_ending_hook", "set_default_ending_hook"]

# (the call's span, the call's duration in seconds); must not raise.
EndingHook = Callable[[Span, float], None]

_default: EndingHook | None = None


def set_default_ending_hook(hook: EndingHook | None) -> None:
    """Sets (or, with None, clears) the hook for instrumentors on the global providers."""
    global _default
    _default = hook


def default_ending_hook() -> EndingHook | None:
    return _default
