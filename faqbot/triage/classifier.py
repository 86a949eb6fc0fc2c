"""Where the fitted reason classifier lives: an .npz artefact keyed by the example bank and the feature code.

A process loads the artefact once (numpy only, a few milliseconds). When none matches the bank — the bank or the
features changed, or a fresh machine — it is trained in a child process (`python -m faqbot.triage.training`), so
scikit-learn and its memory never enter a web worker; two workers racing to build it each write aside and rename.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from .examples import DEFAULT_BANK, BankError
from .model import ReasonModel

_LOADED: dict[tuple[str, str], ReasonModel] = {}
_LOCK = threading.Lock()


def default_cache_dir() -> Path:
    """`TRIAGE_MODEL_DIR`, else the user's cache folder: the artefact is keyed by content, so sharing it is safe."""
    configured = os.environ.get("TRIAGE_MODEL_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "faqbot"


def model_key(bank_bytes: bytes, features_key: str) -> str:
    return hashlib.sha256(bank_bytes + b"\0" + features_key.encode()).hexdigest()


def artefact_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"triage-model-{key[:20]}.npz"


def load_model(features_key: str, bank_path: Path | str = DEFAULT_BANK, cache_dir: Path | None = None) -> ReasonModel:
    """The model for this bank and feature code: from memory, from the artefact, or trained once."""
    try:
        raw = Path(bank_path).read_bytes()
    except OSError as error:
        raise BankError(f"Banque d’exemples introuvable : {bank_path} ({error.strerror}).") from None
    key = model_key(raw, features_key)
    folder = cache_dir or default_cache_dir()
    with _LOCK:
        model = _LOADED.get((key, str(folder)))
        if model is None:
            model = _load_or_build(key, Path(bank_path), folder)
            _LOADED[(key, str(folder))] = model
        return model


def _load_or_build(key: str, bank_path: Path, cache_dir: Path) -> ReasonModel:
    path = artefact_path(cache_dir, key)
    if not path.exists():
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            lock = open(cache_dir / ".triage-model.lock", "a")
        except OSError:  # a read-only cache: build in a private temporary folder for this process
            path = artefact_path(Path(tempfile.mkdtemp(prefix="faqbot-triage-")), key)
            build(bank_path, path, key)
        else:
            with lock:
                # Workers starting together: one trains, the others wait here and then find the artefact.
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not path.exists():
                    build(bank_path, path, key)
    try:
        model = ReasonModel.load(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # a damaged artefact: train it again, once
        path.unlink(missing_ok=True)
        build(bank_path, path, key)
        model = ReasonModel.load(path)
    if model.digest != key:
        raise RuntimeError(f"Modèle de tri incohérent : {path} ne correspond pas à la banque d’exemples.")
    return model


def build(bank_path: Path, path: Path, key: str) -> None:
    """Train in a child process and write the artefact at `path`."""
    result = subprocess.run(
        [sys.executable, "-m", "faqbot.triage.training", str(bank_path), str(path), key],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    if result.returncode != 0 or not path.exists():
        raise RuntimeError(f"Échec de l’entraînement du modèle de tri : {result.stderr.strip()[-2000:]}")
