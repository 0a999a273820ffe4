"""Which measurements carry an exemplar (a link from a metric point to one trace).

Only the latency histograms do, with the span of the call they time: those are what
Grafana's latency panels link from. Every other measurement is recorded with
:data:`NO_EXEMPLAR`. Left to the current context, the SDK would sample the app's own span
(say, its HTTP server span) into each one: about 5 µs a measurement, for a link to a span
that is not the one measured.
"""

from __future__ import annotations

from typing import Final

from opentelemetry import trace
from opentelemetry.context import Context

# The SDK falls back to the current context when given an empty one, so this one holds
# the invalid span, which no trace-based exemplar filter samples.
NO_EXEMPLAR: Final[Context] = trace.set_span_in_context(trace.INVALID_SPAN)
