import numpy as np

from apps.trends.embeddings import DIMENSIONS, model_get, texts_embed
from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.embed import embed


def test_embeddings_are_unit_length_and_batched():
    vectors = texts_embed(["Apple unveils a new iPhone", "Apple shows off its next iPhone", "Flu outbreak in Texas"])
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert texts_embed([]).shape == (0, DIMENSIONS)


def test_the_model_is_loaded_once_per_process():
    assert model_get() is model_get()


def test_an_exact_duplicate_reuses_its_originals_vector():
    original = Item(title="Same", content_hash="h", embedding=np.ones(DIMENSIONS) / np.sqrt(DIMENSIONS))
    duplicate = Item(title="Same", content_hash="h", duplicate_of=original)
    fresh = Item(title="Different")
    assert embed([duplicate, fresh], StageContext(as_of=None)) == 1
    assert np.allclose(duplicate.embedding, original.embedding)
    assert fresh.embedding.shape == (DIMENSIONS,)
