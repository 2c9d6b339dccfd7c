"""Generated datasets show the GAN version they came from and its quality figures, with a
link to that version on the models page (issue 9); real datasets show none."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import Dataset, ModelVersion
from tests.factories import login, make_user
from tests.study_factories import make_dataset

METRICS = {
    "c2st_accuracy": 0.61,
    "c2st": {"p_value": 0.012},
    "fd": 12.3456,
    "precision": 0.71,
    "recall": 0.42,
    "label_fidelity": {"overall": 0.88},
    "memorisation": {"near_copies": 3, "near_copy_fraction": 0.015},
}


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def setup(db: Database) -> tuple[int, int, int]:
    """real1, gen3 (GAN v3, measured) and gen4 (GAN v4, not measured yet): their ids, and
    v3's model id."""
    real = make_dataset(db, "real1", "real")
    measured = make_dataset(db, "gen3", "generated", gan_version=3)
    make_dataset(db, "gen4", "generated", gan_version=4)
    with db.session() as session:
        version = session.scalars(
            select(ModelVersion)
            .join(Dataset, Dataset.model_version_id == ModelVersion.id)
            .where(Dataset.id == measured)
        ).one()
        version.metrics = METRICS
        return real, measured, version.id


def test_datasets_page_shows_each_generated_datasets_gan_and_figures(
    client: TestClient, db: Database
) -> None:
    real, measured, model_id = setup(db)
    login(client, make_user(db, "coordinator", "cora"))
    html = client.get("/datasets").text
    article = lambda d: html.split(f'id="dataset-{d}"')[1].split("</article>")[0]  # noqa: E731
    gen = article(measured)
    assert f'href="/models#model-{model_id}"' in gen
    words = text_of(gen)
    assert "From GAN v3" in words
    for shown in (
        "two-sample test 0.610",
        "(p 0.012)",
        "FD 12.35",
        "0.710 / 0.420",
        "0.880",
        "1.5%",
        "(3 measured patches nearly",
    ):
        assert shown in words, shown
    assert "not been measured yet" in text_of(html.split("gen4")[1].split("</article>")[0])
    assert "GAN v" not in article(real)


def test_gallery_of_a_generated_dataset_names_its_gan(client: TestClient, db: Database) -> None:
    real, measured, model_id = setup(db)
    login(client, make_user(db, "coordinator", "cora"))
    html = client.get(f"/datasets/{measured}/gallery").text
    assert "From GAN v3" in text_of(html) and f'href="/models#model-{model_id}"' in html
    assert 'class="tile" tabindex="0"' in html  # tiles enlarge on focus (gallery.css)
    assert "From GAN" not in text_of(client.get(f"/datasets/{real}/gallery").text)
    login(client, make_user(db, "reader", "ann"))
    assert client.get(f"/datasets/{measured}/gallery").status_code == 403
    assert client.get("/datasets").status_code == 403
