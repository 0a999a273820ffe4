"""The request scope that ``monitor_request`` opens, so LLM calls inside it count once."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class RequestScope:
    """Totals of the LLM calls made while one monitored request runs."""

    endpoint: str
    request_id: str
    open: bool = True
    model: str = ""  # the model of the latest LLM call
    tokens_in: int = 0
    tokens_out: int = 0
    prompt_chars: int = 0
    response_chars: int = 0
    llm_calls: int = 0

    def add_call(
        self, model: str, tokens_in: int, tokens_out: int, prompt_chars: int, response_chars: int
    ) -> None:
        if model:
            self.model = model
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        self.prompt_chars += prompt_chars
        self.response_chars += response_chars
        self.llm_calls += 1


current_scope: ContextVar[RequestScope | None] = ContextVar(
    "taskmaster_request_scope", default=None
)
