import numpy as np
import pytest

from apps.trends.embeddings import texts_embed
from apps.trends.models import Category
from apps.trends.pipeline.describe import categories_prototypes
from apps.trends.vectors import unit

from .conftest import unit_vector

pytestmark = pytest.mark.django_db


def _form(category: Category, descriptions: str) -> dict[str, str]:
    return {"name": category.name, "description": category.description, "descriptions": descriptions}


def test_default_categories_come_with_further_descriptions():
    assert all(c.descriptions for c in Category.objects.all())


def test_the_prototype_is_the_mean_of_every_description():
    Category.objects.exclude(name="Health").delete()
    health = Category.objects.get()
    health.descriptions = ["vaccines and outbreaks", "hospitals and doctors"]
    health.embedding = None
    health.save()
    _, prototypes = categories_prototypes()
    vectors = texts_embed(
        ["Health: " + health.description, "Health: vaccines and outbreaks", "Health: hospitals and doctors"]
    )
    assert np.allclose(prototypes[0], unit(vectors.mean(axis=0)), atol=1e-5)
    assert np.allclose(np.asarray(Category.objects.get().embedding), prototypes[0], atol=1e-6)  # stored


def test_admin_edits_descriptions_one_per_line_and_the_prototype_is_rebuilt(staff_client):
    sports = Category.objects.get(name="Sports")
    sports.embedding = unit_vector(3)
    sports.save()
    response = staff_client.post(
        f"/admin/trends/category/{sports.pk}/change/", _form(sports, "cup final\n\n  transfer window  \n")
    )
    assert response.status_code == 302
    sports.refresh_from_db()
    assert sports.descriptions == ["cup final", "transfer window"]
    assert sports.embedding is None  # embedded again from the new wording on next use
    page = staff_client.get(f"/admin/trends/category/{sports.pk}/change/").content.decode()
    assert "cup final\ntransfer window" in page


def test_admin_refuses_overlong_descriptions_with_the_line_number(staff_client):
    sports = Category.objects.get(name="Sports")
    response = staff_client.post(f"/admin/trends/category/{sports.pk}/change/", _form(sports, "ok\n" + "x" * 501))
    assert response.status_code == 200
    assert "Line 2 has 501 characters; at most 500." in response.content.decode()
    sports.refresh_from_db()
    assert sports.descriptions != ["ok", "x" * 501]
