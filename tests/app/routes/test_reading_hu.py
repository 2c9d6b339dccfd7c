"""The viewer's pixels: GET /api/v1/reading/{item}/hu sends the stored int16 HU of the reader's
own item, clipped to the range generated patches are stored in."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import AssignmentItem, Patch, StudyItem
from tests.factories import Account, api_token, make_user
from tests.study_factories import create_open_study, with_data


def patch_of(db: Database, token: str) -> Patch:
    with db.session() as session:
        patch = session.scalar(
            select(Patch)
            .join(StudyItem, StudyItem.patch_id == Patch.id)
            .join(AssignmentItem, AssignmentItem.study_item_id == StudyItem.id)
            .where(AssignmentItem.token == token)
        )
        assert patch is not None
        session.expunge(patch)
        return patch


def open_study(client: TestClient, db: Database) -> tuple[int, dict[str, str]]:
    """A study read by ann (whose token is returned) and bob."""
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = make_user(db, "reader", "ann")
    make_user(db, "reader", "bob")
    return create_open_study(client, coord, readers=["ann", "bob"]), api_token(db, reader)


def test_hu_is_the_stored_patch_row_by_row(client: TestClient, db: Database) -> None:
    study_id, ann = open_study(client, db)
    item = client.get(f"/api/v1/reading/next?study={study_id}", headers=ann).json()
    patch = patch_of(db, item["item"])
    assert item["hu"] == {
        "url": f"/api/v1/reading/{item['item']}/hu",
        "height": patch.height,
        "width": patch.width,
    }
    response = client.get(item["hu"]["url"], headers=ann)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["cache-control"] == "private, max-age=86400"
    sent = np.frombuffer(response.content, dtype="<i2").reshape(patch.height, patch.width)
    stored = np.frombuffer(patch.pixels, dtype="<i2").reshape(patch.height, patch.width)
    assert np.array_equal(sent, stored)


def test_hu_outside_the_generated_range_is_clipped(client: TestClient, db: Database) -> None:
    """Generated patches hold −1024..1024 HU; a real patch's 3000 HU (bone) or −2048 (outside
    the scanner's field) would name its source, so every item is sent clipped to that range."""
    study_id, ann = open_study(client, db)
    token = client.get(f"/api/v1/reading/next?study={study_id}", headers=ann).json()["item"]
    patch = patch_of(db, token)
    stored = np.frombuffer(patch.pixels, dtype="<i2").copy()
    stored[:4] = [3000, -2048, 1025, -1025]
    with db.session() as session:
        session.get(Patch, patch.id).pixels = stored.astype("<i2").tobytes()  # type: ignore[union-attr]
    sent = np.frombuffer(client.get(f"/api/v1/reading/{token}/hu", headers=ann).content, "<i2")
    assert list(sent[:4]) == [1024, -1024, 1024, -1024]
    assert np.array_equal(sent[4:], stored[4:])


def test_hu_only_for_the_readers_own_items(client: TestClient, db: Database) -> None:
    study_id, ann = open_study(client, db)
    url = client.get(f"/api/v1/reading/next?study={study_id}", headers=ann).json()["hu"]["url"]
    bob = api_token(db, Account("bob", "pw-bob-secret", "reader"))  # a reader of the same study
    other = client.get(url, headers=bob)
    missing = client.get("/api/v1/reading/AAAAAAAAAAAAAAAAAAAAAA/hu", headers=ann)
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()  # another reader's item looks like no item at all
    assert client.get(url).status_code == 401
