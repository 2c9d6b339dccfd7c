"""Builders for reader-study tests: datasets of synthetic patches, studies, scripted readers."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.services.accounts.users import get_user
from app.services.studies import access
from app.services.studies import lifecycle as studies
from app.services.studies.spec import StudySpec
from app.tables import AssignmentItem, Dataset, ModelVersion, Patch, StudyItem
from tests.factories import api_token, make_user

LABELS = ("GGO", "CAL", "NOR")


def make_dataset(
    db: Database,
    name: str,
    kind: str,
    per_label: int = 6,
    labels: tuple[str, ...] = LABELS,
    size: int = 16,
    gan_version: int = 1,
) -> int:
    """A dataset of random HU patches, PER_LABEL for each label (generated ones carry a GAN)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    with db.session() as session:
        version_id = None
        if kind == "generated":
            version = ModelVersion(kind="gan", version=gan_version, checkpoint_path="gan.pt")
            session.add(version)
            session.flush()
            version_id = version.id
        dataset = Dataset(name=name, kind=kind, patch_size=size, model_version_id=version_id)
        session.add(dataset)
        session.flush()
        for i, label in enumerate(label for label in labels for _ in range(per_label)):
            pixels = rng.integers(-1000, 400, (size, size)).astype("<i2").tobytes()
            session.add(
                Patch(
                    dataset_id=dataset.id,
                    source=kind,
                    label_code=label,
                    patient_key=f"p{i % 4}",
                    split="test",
                    height=size,
                    width=size,
                    pixels=pixels,
                    content_hash=hashlib.sha256(pixels).hexdigest(),
                    model_version_id=version_id,
                )
            )
        return dataset.id


def study_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "vtt1",
        "real": {"dataset": "real1", "split": "test"},
        "generated": {"datasets": ["gen1"]},
        "items_per_reader": 8,
        "real_fraction": 0.5,
        "shared_items": True,
        "ask_confidence": True,
        "ask_label": True,
        "readers": [],
        "seed": 7,
    }
    body.update(overrides)
    return body


def with_data(db: Database) -> None:
    make_dataset(db, "real1", "real")
    make_dataset(db, "gen1", "generated")


def create_open_study(client: TestClient, coord: dict[str, str], **overrides: Any) -> int:
    response = client.post("/api/v1/studies", json=study_body(**overrides), headers=coord)
    assert response.status_code == 201, response.text
    study_id = int(response.json()["id"])
    opened = client.post(f"/api/v1/studies/{study_id}/open", headers=coord)
    assert opened.status_code == 200, opened.text
    return study_id


def answer(
    verdict: str = "real", confidence: int | None = 3, label: str | None = "GGO", ms: int = 900
) -> dict[str, Any]:
    return {"verdict": verdict, "confidence": confidence, "label": label, "duration_ms": ms}


def open_reader_study(
    db: Database, name: str, reader: str, items: int, years: int, owner: str | None = None
) -> int:
    """Datasets real1/gen1 and an open study of ITEMS for READER, whose intake says YEARS,
    owned by the coordinator OWNER (None: admins only, as from the CLI)."""
    with_data(db)
    spec = StudySpec.model_validate(
        {
            "name": name,
            "real": {"dataset": "real1"},
            "generated": {"datasets": ["gen1"]},
            "items_per_reader": items,
            "readers": [reader],
        }
    )
    with db.session() as session:
        get_user(session, reader).experience_years = years  # intake answered before
        study = studies.create_study(session, spec, None)
        if owner is not None:
            access.set_owner(session, study, owner, None)
        studies.open_study(session, study.id, None)
        return study.id


def read_everything(
    client: TestClient, db: Database, study_id: int, readers: list[dict[str, str]]
) -> None:
    """Every reader answers every item, with verdicts and confidences that vary by reader and
    patch (reader j calls a patch real when (patch id + j) % 3 is 0 or, for real patches,
    1; confidence 1 + (patch id · (j + 1)) % 5)."""
    from sqlalchemy import select

    from app.tables import AssignmentItem, StudyItem

    for j, headers in enumerate(readers):
        while not (
            item := client.get(f"/api/v1/reading/next?study={study_id}", headers=headers).json()
        ).get("done"):
            with db.session() as session:
                patch_id, source = session.execute(
                    select(Patch.id, Patch.source)
                    .join(StudyItem, StudyItem.patch_id == Patch.id)
                    .join(AssignmentItem, AssignmentItem.study_item_id == StudyItem.id)
                    .where(AssignmentItem.token == item["item"])
                ).one()
            real = (patch_id + j) % 3 == 0 or (source == "real" and (patch_id + j) % 3 == 1)
            body = answer("real" if real else "generated", 1 + (patch_id * (j + 1)) % 5, "GGO")
            posted = client.post(f"/api/v1/reading/{item['item']}", json=body, headers=headers)
            assert posted.status_code == 200, posted.text


def read_by_rule(
    client: TestClient,
    db: Database,
    study_id: int,
    headers: dict[str, str],
    says_real: Callable[[int, str], bool],
    limit: int | None = None,
) -> None:
    """The reader answers LIMIT items (all when None): "real" where SAYS_REAL(patch id,
    source) holds, else "generated"."""
    answered = 0
    while limit is None or answered < limit:
        item = client.get(f"/api/v1/reading/next?study={study_id}", headers=headers).json()
        if item.get("done"):
            return
        with db.session() as session:
            patch_id, source = session.execute(
                select(Patch.id, Patch.source)
                .join(StudyItem, StudyItem.patch_id == Patch.id)
                .join(AssignmentItem, AssignmentItem.study_item_id == StudyItem.id)
                .where(AssignmentItem.token == item["item"])
            ).one()
        verdict = "real" if says_real(patch_id, source) else "generated"
        posted = client.post(
            f"/api/v1/reading/{item['item']}", json=answer(verdict), headers=headers
        )
        assert posted.status_code == 200, posted.text
        answered += 1


def votes(patch_id: int) -> int:
    """How many of ``study_with_two_gans``'s three full readers call patch PATCH_ID real."""
    return patch_id % 4


def study_with_two_gans(client: TestClient, db: Database) -> int:
    """An open study of 12 items on real1, gen1 (GAN v1) and gen2 (GAN v2), coordinator cora:
    readers ann, bob and cat read everything, reader j calling a patch real when
    ``votes(patch) > j``; dan answers 3 items, calling real whatever ``votes`` gives any."""
    with_data(db)
    make_dataset(db, "gen2", "generated", gan_version=2)
    coord = make_user(db, "coordinator", "cora")
    names = ["ann", "bob", "cat", "dan"]
    tokens = [api_token(db, make_user(db, "reader", n)) for n in names]
    study_id = create_open_study(
        client,
        api_token(db, coord),
        generated={"datasets": ["gen1", "gen2"]},
        items_per_reader=12,
        readers=names,
    )
    for j, headers in enumerate(tokens[:3]):
        read_by_rule(client, db, study_id, headers, lambda pid, _src, j=j: votes(pid) > j)
    read_by_rule(client, db, study_id, tokens[3], lambda pid, _src: votes(pid) > 0, limit=3)
    return study_id


def source_of(db: Database, token: str) -> str:
    """The source (real or generated) of the patch behind an item token: what a reader must
    never learn, for tests that check they do not."""
    with db.session() as session:
        return str(
            session.scalar(
                select(Patch.source)
                .join(StudyItem, StudyItem.patch_id == Patch.id)
                .join(AssignmentItem, AssignmentItem.study_item_id == StudyItem.id)
                .where(AssignmentItem.token == token)
            )
        )
