"""The labelled example bank of the reason classifier (`data/triage_examples.yaml`): loading and validation.

A bank maps each reason id to its messages grouped by writing style. It is data, reviewed like the FAQ: a bad
file is refused with a French message saying what to fix, before any model is trained on it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from .reasons import REASONS_BY_ID

DEFAULT_BANK = Path(__file__).resolve().parent.parent.parent / "data" / "triage_examples.yaml"
STYLES = ("long", "sms", "paraphrase", "trap", "short")
MIN_PER_REASON = 30  # below this a reason's vocabulary is too thin for the model to learn it


class BankError(ValueError):
    """The example bank cannot be used; the message says what to fix, in French."""


@dataclass(frozen=True)
class Example:
    reason: str
    style: str
    message: str


@dataclass(frozen=True)
class ExampleBank:
    examples: tuple[Example, ...]
    digest: str  # sha256 of the file's bytes: a trained model is keyed by it

    def by_reason(self) -> dict[str, list[Example]]:
        grouped: dict[str, list[Example]] = {}
        for example in self.examples:
            grouped.setdefault(example.reason, []).append(example)
        return grouped


def parse_bank(raw: bytes, *, min_per_reason: int = MIN_PER_REASON) -> ExampleBank:
    """Validate a bank's YAML text: known reasons and styles, non-empty distinct messages, enough per reason."""
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise BankError(f"Banque d’exemples illisible (YAML invalide) : {error}") from None
    reasons = data.get("reasons") if isinstance(data, dict) else None
    if not isinstance(reasons, dict):
        raise BankError("La banque d’exemples doit contenir une clé « reasons » : motif -> style -> messages.")
    examples: list[Example] = []
    seen: dict[str, str] = {}
    for reason_id, styles in reasons.items():
        if reason_id not in REASONS_BY_ID:
            raise BankError(f"Motif inconnu dans la banque d’exemples : « {reason_id} ».")
        if not isinstance(styles, dict):
            raise BankError(f"« {reason_id} » : attendu un style -> liste de messages.")
        for style, messages in styles.items():
            if style not in STYLES:
                raise BankError(f"« {reason_id} » : style inconnu « {style} » (attendus : {', '.join(STYLES)}).")
            if not isinstance(messages, list):
                raise BankError(f"« {reason_id} » / {style} : attendu une liste de messages.")
            for message in messages:
                if not isinstance(message, str) or not message.strip():
                    raise BankError(f"« {reason_id} » / {style} : message vide ou qui n’est pas du texte.")
                key = " ".join(message.lower().split())
                if key in seen:
                    raise BankError(f"Message en double (« {seen[key]} » et « {reason_id} ») : {message!r}.")
                seen[key] = reason_id
                examples.append(Example(reason_id, style, message.strip()))
    counts = {reason_id: 0 for reason_id in REASONS_BY_ID}
    for example in examples:
        counts[example.reason] += 1
    thin = {reason_id: n for reason_id, n in counts.items() if n < min_per_reason}
    if thin:
        listed = ", ".join(f"{reason_id} ({n})" for reason_id, n in sorted(thin.items()))
        raise BankError(f"Pas assez d’exemples (au moins {min_per_reason} par motif) : {listed}.")
    return ExampleBank(tuple(examples), hashlib.sha256(raw).hexdigest())


def load_bank(path: Path | str = DEFAULT_BANK, *, min_per_reason: int = MIN_PER_REASON) -> ExampleBank:
    """Read and validate the bank at `path`."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise BankError(f"Banque d’exemples introuvable : {path} ({error.strerror}).") from None
    return parse_bank(raw, min_per_reason=min_per_reason)
