"""Item PNGs are made from the same clipped HU as the viewer's read-out: a real patch's values
outside the generated range (−1024…1024 HU) must not show in any window."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from app.db import Database
from app.tables import Patch
from tests.factories import api_token, make_user
from tests.study_factories import answer, create_open_study, with_data

# Outside the field of view, air below −1024, the edges, soft tissue, bone above 1024.
REAL = np.resize(np.array([-2048, -1100, -1025, -1024, -600, 40, 1024, 1025, 3000]), (16, 16))
GENERATED = np.clip(REAL, -1024, 1024)


def set_pixels(db: Database) -> None:
    """Every real patch holds REAL, every generated one the same values clipped (GENERATED)."""
    with db.session() as session:
        for patch in session.scalars(select(Patch)):
            values = REAL if patch.source == "real" else GENERATED
            patch.pixels = values.astype("<i2").tobytes()


def test_real_values_outside_the_generated_range_look_generated(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    set_pixels(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = api_token(db, make_user(db, "reader", "ann"))
    study_id = create_open_study(client, coord, readers=["ann"], items_per_reader=6)
    received: dict[str, set[bytes]] = {}
    for _ in range(6):
        item = client.get(f"/api/v1/reading/next?study={study_id}", headers=reader).json()
        for window, url in item["images"].items():
            received.setdefault(window, set()).add(client.get(url, headers=reader).content)
        received.setdefault("hu", set()).add(client.get(item["hu"]["url"], headers=reader).content)
        client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=reader)
    assert set(received) == {"lung", "mediastinal", "hu"}
    # Three real and three generated items, every one the same bytes in every window.
    assert all(len(sent) == 1 for sent in received.values()), "real and generated images differ"
    lung = np.asarray(Image.open(io.BytesIO(received["lung"].pop())))
    # Lung window −1350…150 HU: −1024 HU is gray 55; darker would be a real patch's −2048.
    assert lung.min() == 55 and np.count_nonzero(lung == 55) == np.count_nonzero(GENERATED == -1024)
