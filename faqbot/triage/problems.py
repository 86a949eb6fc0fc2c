"""What a rule says when it refuses: a stable code, French source text with named parameters, where it applies."""
from __future__ import annotations

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    code: str  # stable id clients may rely on, e.g. "iban-cle"
    message: str  # French source text (a gettext msgid) with %(name)s placeholders
    field: str | None = None  # the field or confirmation it concerns; None for the submission as a whole
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # Blocking: the situation itself rules out a ticket (not debited, deadline passed); we explain, the visitor
    # cannot "fix" it by typing something else.
    blocking: bool = False
    answer: str | None = None  # the policy answer to show with a blocking problem

    def text(self, translate: Callable[[str], str] = lambda s: s) -> str:
        """The message for people, translated by the caller's gettext, with its parameters filled in."""
        message = translate(self.message)
        return message % dict(self.params) if self.params else message
