"""The coordinator's results page (issue 9): the headline read out in words that follow the
number, readers who have not finished named with what counts, numbered figure captions with
their n, and the patch gallery ranked by judged-real share and filtered by GAN version and
label. Readers get none of it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import ModelVersion, Patch
from tests.factories import Account, api_token, login, make_user
from tests.study_factories import (
    create_open_study,
    read_by_rule,
    study_with_two_gans,
    votes,
    with_data,
)


def two_gan_study(client: TestClient, db: Database) -> tuple[int, TestClient]:
    """``study_with_two_gans``, and the client logged in as its coordinator, cora."""
    study_id = study_with_two_gans(client, db)
    login(client, Account("cora", "pw-cora-secret", "coordinator"))
    return study_id, client


def tiles(html: str, ranking: str) -> list[tuple[int, int, int]]:
    """(patch id, count, readers) of each tile in the gallery RANKING, in page order."""
    block = html.split(f'class="gallery {ranking}"')[1].split("</div>")[0]
    found = re.findall(
        r'data-patch="(\d+)">.*?<strong class="count">(\d+) of (\d+)</strong>', block, re.S
    )
    return [(int(p), int(k), int(n)) for p, k, n in found]


def gan_of(db: Database, patch_ids: list[int]) -> set[int]:
    """The GAN versions that made the patches PATCH_IDS."""
    with db.session() as session:
        query = (
            select(ModelVersion.version)
            .join(Patch, Patch.model_version_id == ModelVersion.id)
            .where(Patch.id.in_(patch_ids))
        )
        return set(session.scalars(query))


def test_gallery_ranks_by_judged_real_share_and_filters(client: TestClient, db: Database) -> None:
    study_id, client = two_gan_study(client, db)
    html = client.get(f"/studies/{study_id}/results").text
    fooling = tiles(html, "fooling")
    assert fooling, "no generated tiles"
    shares = [k / n for _, k, n in fooling]
    assert shares == sorted(shares, reverse=True)
    assert shares[0] > shares[-1]  # the rule gives different shares: the order means something
    # dan (3 answers) makes some patches 4-reader ones; the 3 readers' votes are the rule's.
    for patch_id, k, n in fooling:
        assert k - (n - 3) * (votes(patch_id) > 0) == votes(patch_id)
    doubted = tiles(html, "doubted")
    doubted_shares = [k / n for _, k, n in doubted]
    assert doubted_shares == sorted(doubted_shares, reverse=True)
    assert doubted_shares[0] > doubted_shares[-1]

    only_v2 = client.get(f"/studies/{study_id}/results?gan=2").text
    v2_tiles = tiles(only_v2, "fooling")
    assert v2_tiles and gan_of(db, [p for p, _, _ in v2_tiles]) == {2}
    assert len(v2_tiles) < len(fooling)

    ggo = client.get(
        f"/studies/{study_id}/results/gallery?label=GGO", headers={"HX-Request": "true"}
    )
    assert ggo.status_code == 200 and "<html" not in ggo.text  # the fragment alone
    with db.session() as session:
        labels = set(
            session.scalars(
                select(Patch.label_code).where(
                    Patch.id.in_(
                        [p for p, _, _ in tiles(ggo.text, "fooling") + tiles(ggo.text, "doubted")]
                    )
                )
            )
        )
    assert labels == {"GGO"}

    reload = client.get(
        f"/studies/{study_id}/results/gallery?gan=2&label=CAL", follow_redirects=False
    )
    assert reload.status_code == 303
    assert reload.headers["location"] == f"/studies/{study_id}/results?gan=2&label=CAL#gallery"


def test_partly_finished_readers_are_named_with_what_counts(
    client: TestClient, db: Database
) -> None:
    study_id, client = two_gan_study(client, db)
    html = client.get(f"/studies/{study_id}/results").text
    block = html.split('id="partly-finished"')[1].split("</div>")[0]
    assert "1 reader has not finished" in block
    row = re.search(r'<tr data-reader="dan">(.*?)</tr>', block, re.S)
    assert row and re.sub(r"<[^>]+>|\s+", " ", row.group(1)).split()[:4] == [
        "dan",
        "3",
        "12",
        "(25%)",
    ]
    assert "left out: too few shared patches" in row.group(1)
    assert "Every answer given counts" in block
    for name in ("ann", "bob", "cat"):
        assert f'data-reader="{name}"' not in block


def test_headline_explanation_follows_the_number(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = make_user(db, "coordinator", "cora")
    coord_headers = api_token(db, coord)
    ann = api_token(db, make_user(db, "reader", "ann"))
    bob = api_token(db, make_user(db, "reader", "bob"))
    spotted = create_open_study(client, coord_headers, name="spotted", readers=["ann", "bob"])
    fooled = create_open_study(client, coord_headers, name="fooled", readers=["ann", "bob"])
    coin = create_open_study(client, coord_headers, name="coin", readers=["ann", "bob"])
    for j, headers in enumerate((ann, bob)):
        read_by_rule(client, db, spotted, headers, lambda _pid, src: src == "real")
        read_by_rule(client, db, fooled, headers, lambda _pid, _src: True)
        read_by_rule(client, db, coin, headers, lambda pid, _src, j=j: (pid + j) % 2 == 0)
    login(client, coord)

    def explained(study_id: int) -> str:
        html = client.get(f"/studies/{study_id}/results").text
        block = html.split('id="headline-explained"')[1].split("</div>")[0]
        return re.sub(r"<[^>]+>|\s+", " ", block)

    text = explained(spotted)
    assert "Readers called 0.0% of the generated patches real (0 of 8 judgments)" in text
    assert "50% would mean readers could not tell generated from real patches" in text
    assert "lies below 50%: readers spotted the generated patches" in text
    assert "real patches were judged real 100.0% (8 of 8)" in text
    text = explained(fooled)
    assert "Readers called 100.0% of the generated patches real (8 of 8 judgments)" in text
    assert "lies above 50%: readers took generated patches for real" in text
    text = explained(coin)
    assert "Readers called 50.0% of the generated patches real (4 of 8 judgments)" in text
    assert "includes 50%: these readers could not tell the generated patches from real" in text


def test_figures_carry_numbered_captions_with_n(client: TestClient, db: Database) -> None:
    study_id, client = two_gan_study(client, db)
    html = client.get(f"/studies/{study_id}/results").text
    captions = re.findall(
        r"<figcaption><strong>(Figure \d+)\.</strong>(.*?)</figcaption>", html, re.S
    )
    assert [c[0] for c in captions] == ["Figure 1", "Figure 2", "Figure 3"]
    # 3 readers × 12 + dan's 3 = 39 judgments, 6 + 6 per reader (dan's three of either)
    results = client.get(
        f"/api/v1/studies/{study_id}/results", headers=api_token(db, make_user(db, "admin", "root"))
    ).json()
    n_gen, n_real = results["generated_judged_real"]["n"], results["real_judged_real"]["n"]
    assert n_gen + n_real == 39
    assert (
        f"n = {n_gen} judgments of generated and {n_real} of real patches by 4 readers"
        in captions[0][1]
    )
    assert "n = 4 readers, 39 judgments" in captions[1][1]
    assert "n = 39 judgments with a label" in captions[2][1]


def test_readers_get_no_results_or_gallery(client: TestClient, db: Database) -> None:
    study_id, client = two_gan_study(client, db)
    login(client, make_user(db, "reader", "eve"))
    for path in ("results", "results/gallery", "results/gallery?gan=1"):
        response = client.get(f"/studies/{study_id}/{path}", headers={"HX-Request": "true"})
        assert response.status_code == 403, path
    response = client.get(
        f"/studies/{study_id}/results", headers=api_token(db, make_user(db, "reader", "fay"))
    )
    assert response.status_code == 403


def test_gallery_shows_only_patches_that_fooled_someone(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = make_user(db, "coordinator", "cora")
    coord_headers = api_token(db, coord)
    readers = [api_token(db, make_user(db, "reader", name)) for name in ("ann", "bob")]
    spotted = create_open_study(client, coord_headers, name="spotted", readers=["ann", "bob"])
    mixed = create_open_study(client, coord_headers, name="mixed", readers=["ann", "bob"])
    for j, headers in enumerate(readers):
        read_by_rule(client, db, spotted, headers, lambda _pid, src: src == "real")
        read_by_rule(client, db, mixed, headers, lambda pid, _src, j=j: pid % 3 == j)
    login(client, coord)

    html = client.get(f"/studies/{spotted}/results").text
    gallery = html.split('id="item-gallery"')[1]
    assert "No generated patch was called real by any reader." in gallery
    assert "No real patch was called generated by any reader." in gallery
    assert 'class="tile"' not in gallery and "0 of 2" not in gallery

    html = client.get(f"/studies/{mixed}/results").text
    fooling, doubted = tiles(html, "fooling"), tiles(html, "doubted")
    assert fooling and doubted
    assert all(k >= 1 for _, k, _ in fooling + doubted)  # "0 of 2 called it real": never
    # ann calls real the patches with pid % 3 == 0, bob pid % 3 == 1: pid % 3 == 2 fooled nobody
    assert {p % 3 for p, _, _ in fooling} <= {0, 1}
    assert "No generated patch was called real" not in html


def test_mrmc_interval_past_zero_or_one_is_shown_cut_with_its_ddf(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = make_user(db, "coordinator", "cora")
    coord_headers = api_token(db, coord)
    ann = api_token(db, make_user(db, "reader", "ann"))
    bob = api_token(db, make_user(db, "reader", "bob"))
    study_id = create_open_study(client, coord_headers, readers=["ann", "bob"])
    read_by_rule(client, db, study_id, ann, lambda _pid, src: src == "real")  # AUC 1
    read_by_rule(client, db, study_id, bob, lambda pid, _src: pid % 2 == 0)  # about chance
    pooled = client.get(f"/api/v1/studies/{study_id}/results", headers=coord_headers).json()[
        "mrmc"
    ]["pooled"]
    rr = pooled["random_readers_random_cases"]
    low, high = rr["ci95"]
    assert low < 0 or high > 1  # the JSON keeps the raw t interval (2 readers: tiny ddf)

    login(client, coord)
    html = client.get(f"/studies/{study_id}/results").text
    block = html.split('class="card mrmc"')[1].split("</section>")[0]
    row = re.search(
        r'<tr class="cut"><td class="row-head">all GAN versions</td>(.*?)</tr>', block, re.S
    )
    assert row, block
    shown = re.search(r'data-label="95% interval">([\d.]+)–([\d.]+)', row.group(1))
    assert shown and (float(shown[1]), float(shown[2])) == (max(low, 0.0), min(high, 1.0))
    note = re.sub(r"<[^>]+>|\s+", " ", block.split('id="mrmc-cut"')[1])
    assert "Interval wider than [0, 1], shown cut to it" in note
    assert "Add readers to narrow it. The raw interval stays in the results JSON" in note
    raw = f"raw interval {low:.3f} to {high:.3f}".replace("-", "−")
    assert f"all GAN versions: 2 readers, ddf = {rr['df']:.1f}, {raw}" in note
    assert f"{low:.3f}–" not in block.split("<tbody>")[1].split("</tbody>")[0]
