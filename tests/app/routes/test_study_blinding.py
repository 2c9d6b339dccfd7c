"""Blinding: everything a reader receives is the same for real and generated items but pixels."""

from __future__ import annotations

import random
import re
import struct
from itertools import pairwise
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import Assignment, AssignmentItem, User
from tests.factories import api_token, login, make_user
from tests.study_factories import answer, create_open_study, source_of, with_data

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def png_chunks(data: bytes) -> list[tuple[bytes, int]]:
    """(type, length) of every chunk; IHDR's content is compared separately."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], length))
        at += 12 + length
    return chunks


def shape(value: Any, token: str) -> Any:
    """VALUE with the item's token and its position masked; every other value kept as is, so
    an integer or flag that differs between sources (a total, a count) shows."""
    if isinstance(value, dict):
        return {k: "<position>" if k == "position" else shape(v, token) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace(token, "<token>")
    return value


def received(client: TestClient, study_id: int, headers: dict[str, str]) -> dict[str, Any]:
    """Everything the reader gets for one item: JSON, images (headers, chunks), the viewer's HU
    bytes (headers, length), answer reply."""
    item = client.get(f"/api/v1/reading/next?study={study_id}", headers=headers).json()
    token = item["item"]
    out: dict[str, Any] = {"token_ok": bool(TOKEN.match(token)), "json": shape(item, token)}
    for window, url in item["images"].items():
        image = client.get(url, headers=headers)
        out[f"{window}_headers"] = {k: v for k, v in image.headers.items() if k != "date"}
        out[f"{window}_chunks"] = png_chunks(image.content)
        out[f"{window}_ihdr"] = image.content[8:33]
    hu = client.get(item["hu"]["url"], headers=headers)
    out["hu_status"] = hu.status_code
    out["hu_headers"] = {k: v for k, v in hu.headers.items() if k != "date"}
    out["hu_length"] = len(hu.content)
    flag = {"unreadable": True, "comment": "blurred"}
    flagged = client.post(f"/api/v1/reading/items/{token}/flag", json=flag, headers=headers)
    out["flag"] = (flagged.status_code, shape(flagged.json(), token))
    reply = client.post(f"/api/v1/reading/{token}", json=answer(), headers=headers).json()
    reply.pop("answered_at")
    out["reply"] = shape(reply, token)
    return out


def test_real_and_generated_items_differ_only_in_pixels(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = make_user(db, "reader", "ann")
    study_id = create_open_study(client, coord, readers=["ann"], items_per_reader=10)
    headers = api_token(db, reader)
    by_source: dict[str, list[dict[str, Any]]] = {"real": [], "generated": []}
    for _ in range(10):
        token = client.get(f"/api/v1/reading/next?study={study_id}", headers=headers).json()["item"]
        by_source[source_of(db, token)].append(received(client, study_id, headers))
    assert len(by_source["real"]) == 5 and len(by_source["generated"]) == 5
    every = by_source["real"] + by_source["generated"]
    assert all(r == every[0] for r in every), "a reader could tell sources apart"
    assert every[0]["token_ok"] and "etag" not in every[0]["lung_headers"]
    assert "last-modified" not in every[0]["lung_headers"]
    assert [t for t, _ in every[0]["lung_chunks"]] == [b"IHDR", b"IDAT", b"IEND"]
    assert every[0]["hu_status"] == 200 and every[0]["hu_length"] == 2 * 16 * 16
    assert "etag" not in every[0]["hu_headers"] and "last-modified" not in every[0]["hu_headers"]


def test_pixels_do_differ_and_pages_hide_the_design(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = make_user(db, "reader", "ann")
    study_id = create_open_study(client, coord, readers=["ann"], real_fraction=0.25)
    headers = api_token(db, reader)
    images = set()
    for _ in range(3):
        item = client.get(f"/api/v1/reading/next?study={study_id}", headers=headers).json()
        images.add(client.get(item["image_url"], headers=headers).content)
        images.add(client.get(item["hu"]["url"], headers=headers).content)
        client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=headers)
    assert len(images) == 6
    client.post("/api/v1/reading/intake", json={"experience_years": 4}, headers=headers)
    login(client, reader)
    for path in (f"/reading/{study_id}", "/reading"):
        page = client.get(path).text
        assert (
            "0.25" not in page and "25%" not in page and "gen1" not in page and "real1" not in page
        )
    listed = client.get("/api/v1/reading/studies", headers=headers).json()
    assert set(listed[0]) == {"study", "name", "status", "answered", "total"}


def seeded_permutation(items: list[int], seed: int) -> list[int]:
    """The documented order, written out independently: sorted ids, shuffled by Random(seed)."""
    order = sorted(items)
    random.Random(seed).shuffle(order)
    return order


def runs(sources: list[str]) -> int:
    return 1 + sum(a != b for a, b in pairwise(sources))


def test_each_reader_reads_in_an_own_seeded_shuffle(client: TestClient, db: Database) -> None:
    """Not real-first, not the same for everyone: a reader can't learn the design from order."""
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    readers = {name: api_token(db, make_user(db, "reader", name)) for name in ("ann", "bob")}
    study_id = create_open_study(client, coord, readers=list(readers), items_per_reader=10)
    orders: dict[str, list[int]] = {}
    for name, headers in readers.items():
        sources, tokens = [], []
        for _ in range(10):
            item = client.get(f"/api/v1/reading/next?study={study_id}", headers=headers).json()
            tokens.append(item["item"])
            sources.append(source_of(db, item["item"]))
            client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=headers)
        with db.session() as session:
            seed = session.scalar(select(Assignment.seed).join(User).where(User.username == name))
            by_token = dict(
                session.execute(
                    select(AssignmentItem.token, AssignmentItem.study_item_id).where(
                        AssignmentItem.token.in_(tokens)
                    )
                ).all()
            )
        orders[name] = [by_token[t] for t in tokens]
        assert seed is not None and orders[name] == seeded_permutation(orders[name], seed + 1)
        assert sorted(sources) == ["generated"] * 5 + ["real"] * 5
        assert runs(sources) > 2, f"{name} sees one source, then the other: {sources}"
    assert sorted(orders["ann"]) == sorted(orders["bob"]), "a shared study: the same items"
    assert orders["ann"] != orders["bob"], "both readers read in the same order"
