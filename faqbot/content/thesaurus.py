"""The domain thesaurus (data/thesaurus.yaml): one vocabulary for search and triage, loaded, validated and typed.

Stable public API (search and triage both rely on it; extend, do not change):

    from faqbot.content.thesaurus import load_thesaurus, fold

    thesaurus = load_thesaurus()                 # data/thesaurus.yaml, or load_thesaurus(path)
    thesaurus.concepts_in("slt g perdu mon carton rose")   # -> ["permisconduire"]  (concept ids, first seen first)
    thesaurus.normalise("jsuis pa venu")         # -> "je suis pas venu"  (folded, SMS-speak expanded)
    thesaurus.concept("absence").forms["everyday"]          # surface forms by register
    thesaurus.sms["pk"]                          # -> "pourquoi"
    thesaurus.digest                             # sha256 of the file: caches and indexes key on it

`concepts_in` reads a free text the way visitors write it: folded (case, accents, apostrophes), SMS-speak
expanded, words lightly stemmed (plural, feminine, -er/-é/-ement endings) and function words ignored, so
"remboursé", "rembourser" and "remboursement" all name `remboursement`. A concept's `not` phrases veto it where
they match ("annulé par le centre" is not the visitor cancelling); a concept's `broader` concepts are named with it,
and a concept whose `implied_by` combination is all named in the text is added (a probationary licence + a registered
letter: `lettre48n`). The search analyzer (faqbot/index/analysis.py) builds its own stemmed tables from the same data.

No Flask, no whoosh: a plain loader usable by the CLI, the app, the triage model and the tests.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from .text import fold  # re-exported: `from faqbot.content.thesaurus import fold` is public API

DEFAULT_PATH = Path(__file__).resolve().parent.parent.parent / "data" / "thesaurus.yaml"
REGISTERS = ("legal", "everyday", "sms", "misspellings")
DEFAULT_WEIGHT = 0.6  # a concept match counts this much of the visitor's own word
_ID = re.compile(r"^[a-z0-9]+$")
_WORDS = re.compile(r"[^\W_]+", re.UNICODE)

# Words that carry no topic; ignored when matching forms (negations are kept: "pas venu" is not "venu").
FUNCTION_WORDS = frozenset("""
a au aux avec ce ces cet cette d de des du en et il ils elle elles j je l la le les leur leurs lui m ma me mes mon
nos notre nous on ou par pour qu que qui s sa se ses son sur t ta te tes ton tu un une vos votre vous y est suis es
sont ai as avons avez ont etre avoir ete c ca cela ceci dans
""".split())


class ThesaurusError(ValueError):
    """The thesaurus file is invalid; the message says where, in French."""


_SUFFIXES = ("ements", "ement", "ations", "ation", "ees", "ee", "es", "er", "ez", "e", "s", "x")


def light_stem(word: str) -> str:
    """A forgiving stem for matching forms in free text: doubled letters collapsed, common endings off."""
    word = re.sub(r"([a-z])\1+", r"\1", word)
    if word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class Concept:
    id: str
    forms: dict[str, tuple[str, ...]]  # register -> surface forms as written in the file
    idioms: tuple[str, ...] = ()  # phrases of function words, matched as typed ("c'est quoi")
    negatives: tuple[str, ...] = ()  # phrases where the concept must not be read
    weight: float = DEFAULT_WEIGHT
    neutral: bool = False  # says nothing about the topic ("que faire"): search does not search its words
    broader: tuple[str, ...] = ()  # concepts this one is a kind of: read with it ("ordonnance pénale" is justice)
    # Combinations of concepts that, named close together, name this one too: a probationary licence and a registered
    # letter that obliges to a course are the 48N letter, even when the visitor never says "48N".
    implied_by: tuple[tuple[str, ...], ...] = ()

    @property
    def all_forms(self) -> tuple[str, ...]:
        return tuple(form for register in REGISTERS for form in self.forms.get(register, ()))


@dataclass(frozen=True)
class Thesaurus:
    concepts: tuple[Concept, ...]
    sms: dict[str, str] = field(default_factory=dict)  # folded typed token -> the words it stands for
    digest: str = ""

    @cached_property
    def by_id(self) -> dict[str, Concept]:
        return {concept.id: concept for concept in self.concepts}

    def concept(self, concept_id: str) -> Concept:
        return self.by_id[concept_id]

    # -- reading free text --------------------------------------------------------------------------------------------
    def words(self, text: str) -> list[str]:
        """Folded words with SMS-speak expanded ("jsuis pa venu" -> ["je", "suis", "pas", "venu"])."""
        out: list[str] = []
        for word in _WORDS.findall(fold(text).replace("'", " ' ")):
            expansion = self._sms_words.get(word)
            out.extend(expansion if expansion is not None else (word,))
        return out

    def normalise(self, text: str) -> str:
        return " ".join(self.words(text))

    def concepts_in(self, text: str) -> list[str]:
        """Ids of the concepts named in a free text, in order of first appearance (each once)."""
        raw = self.words(text)
        keys, positions = [], []
        for index, word in enumerate(raw):
            if word not in FUNCTION_WORDS:
                keys.append(light_stem(word))
                positions.append(index)
        found: list[tuple[int, int, str]] = []  # (first word, last word, concept id) over `raw` indexes
        vetoes: list[tuple[int, int, str]] = []
        for table, target in ((self._form_table, found), (self._negative_table, vetoes)):
            for end in range(len(keys)):
                for size in range(1, min(self._longest, end + 1) + 1):
                    concept_id = table.get(tuple(keys[end - size + 1 : end + 1]))
                    if concept_id is not None:
                        target.append((positions[end - size + 1], positions[end], concept_id))
        for end in range(len(raw)):  # idioms are function words: matched on the words as typed
            for size in range(1, min(self._longest_idiom, end + 1) + 1):
                concept_id = self._idiom_table.get(tuple(raw[end - size + 1 : end + 1]))
                if concept_id is not None:
                    found.append((end - size + 1, end, concept_id))
        found.sort()
        ids: list[str] = []
        for first, last, concept_id in found:
            vetoed = any(c == concept_id and a <= last and first <= b for a, b, c in vetoes)
            if vetoed:
                continue
            for named in (concept_id, *self.by_id[concept_id].broader):
                if named not in ids:
                    ids.append(named)
        for concept in self.concepts:  # combinations, over the whole text (a message is short)
            if concept.id not in ids and any(all(c in ids for c in combo) for combo in concept.implied_by):
                ids.append(concept.id)
        return ids

    # -- tables (built once per loaded thesaurus) ---------------------------------------------------------------------
    @cached_property
    def _sms_words(self) -> dict[str, tuple[str, ...]]:
        return {token: tuple(_WORDS.findall(fold(words).replace("'", " ' "))) for token, words in self.sms.items()}

    def _key(self, phrase: str) -> tuple[str, ...]:
        return tuple(light_stem(w) for w in self.words(phrase) if w not in FUNCTION_WORDS)

    @cached_property
    def _form_table(self) -> dict[tuple[str, ...], str]:
        table: dict[tuple[str, ...], str] = {}
        for concept in self.concepts:
            for form in concept.all_forms:
                key = self._key(form)
                if key:
                    table.setdefault(key, concept.id)
        return table

    @cached_property
    def _negative_table(self) -> dict[tuple[str, ...], str]:
        return {self._key(p): c.id for c in self.concepts for p in c.negatives if self._key(p)}

    @cached_property
    def _idiom_table(self) -> dict[tuple[str, ...], str]:
        return {tuple(self.words(p)): c.id for c in self.concepts for p in c.idioms if self.words(p)}

    @cached_property
    def _longest(self) -> int:
        return max((len(k) for k in (*self._form_table, *self._negative_table)), default=1)

    @cached_property
    def _longest_idiom(self) -> int:
        return max((len(k) for k in self._idiom_table), default=1)

    def form_conflicts(self) -> list[str]:
        """Forms claimed by two concepts once folded and lightly stemmed (the file must have none)."""
        owner: dict[tuple[str, ...], str] = {}
        problems = []
        for concept in self.concepts:
            for form in concept.all_forms:
                key = self._key(form)
                if key in owner and owner[key] != concept.id:
                    problems.append(f"« {form} » ({concept.id}) est déjà une forme de « {owner[key]} »")
                owner.setdefault(key, concept.id)
        return problems


def _strings(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ThesaurusError(f"{where} : une liste de textes est attendue")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _combinations(value, where: str) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, list) and len(v) >= 2 for v in value):
        raise ThesaurusError(f"{where} : une liste de combinaisons (listes d’au moins deux concepts) est attendue")
    return tuple(tuple(str(c) for c in combination) for combination in value)


def parse_thesaurus(data: object, digest: str = "") -> Thesaurus:
    """Typed thesaurus from parsed YAML; raises ThesaurusError with a French message on any problem."""
    if not isinstance(data, dict):
        raise ThesaurusError("Le thésaurus doit être un dictionnaire (version, sms, concepts).")
    sms_raw = data.get("sms") or {}
    if not isinstance(sms_raw, dict):
        raise ThesaurusError("sms : un dictionnaire « mot tapé: mots complets » est attendu")
    sms = {}
    for token, words in sms_raw.items():
        if not isinstance(words, str) or not words.strip():
            raise ThesaurusError(f"sms.{token} : le remplacement doit être un texte non vide")
        sms[fold(str(token))] = words.strip()
    raw_concepts = data.get("concepts")
    if not isinstance(raw_concepts, dict) or not raw_concepts:
        raise ThesaurusError("concepts : au moins un concept est attendu")
    concepts = []
    for concept_id, body in raw_concepts.items():
        where = f"concepts.{concept_id}"
        if not isinstance(concept_id, str) or not _ID.match(concept_id):
            raise ThesaurusError(f"{where} : identifiant invalide (minuscules et chiffres, sans espace)")
        if not isinstance(body, dict):
            raise ThesaurusError(f"{where} : un dictionnaire est attendu")
        unknown = set(body) - {*REGISTERS, "idioms", "not", "weight", "neutral", "label", "broader", "implied_by"}
        if unknown:
            raise ThesaurusError(f"{where} : clé(s) inconnue(s) : {', '.join(sorted(unknown))}")
        forms = {register: _strings(body.get(register), f"{where}.{register}") for register in REGISTERS}
        idioms = _strings(body.get("idioms"), f"{where}.idioms")
        if not any(forms.values()) and not idioms:
            raise ThesaurusError(f"{where} : aucune forme")
        weight = body.get("weight", DEFAULT_WEIGHT)
        if not isinstance(weight, (int, float)) or not 0 < weight <= 1:
            raise ThesaurusError(f"{where}.weight : un nombre entre 0 (exclu) et 1 est attendu")
        concepts.append(
            Concept(
                id=concept_id,
                forms={r: f for r, f in forms.items() if f},
                idioms=idioms,
                negatives=_strings(body.get("not"), f"{where}.not"),
                weight=float(weight),
                neutral=bool(body.get("neutral", False)),
                broader=_strings(body.get("broader"), f"{where}.broader"),
                implied_by=_combinations(body.get("implied_by"), f"{where}.implied_by"),
            )
        )
    known = {concept.id for concept in concepts}
    for concept in concepts:
        for other in concept.broader:
            if other not in known or other == concept.id:
                raise ThesaurusError(f"concepts.{concept.id}.broader : concept inconnu « {other} »")
        for combination in concept.implied_by:
            for other in combination:
                if other not in known or other == concept.id:
                    raise ThesaurusError(f"concepts.{concept.id}.implied_by : concept inconnu « {other} »")
    thesaurus = Thesaurus(concepts=tuple(concepts), sms=sms, digest=digest)
    conflicts = thesaurus.form_conflicts()
    if conflicts:
        raise ThesaurusError("Formes en double : " + " ; ".join(conflicts[:10]))
    return thesaurus


_CACHE: dict[tuple[str, str], Thesaurus] = {}


def load_thesaurus(path: str | Path | None = None) -> Thesaurus:
    """Load and validate data/thesaurus.yaml (or `path`); the same file content is parsed once per process."""
    path = Path(path) if path is not None else DEFAULT_PATH
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    cached = _CACHE.get((str(path), digest))
    if cached is None:
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise ThesaurusError(f"{path.name} : YAML illisible ({error})") from error
        cached = parse_thesaurus(data, digest=digest)
        _CACHE[(str(path), digest)] = cached
    return cached
