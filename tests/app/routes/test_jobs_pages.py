"""The admin pages of jobs and model versions: roles, the start form (defaults, refusals with
the values kept, redirect to the job), live fragments that poll only while a job is active,
the sample grid image, cancel and promote."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.db import Database
from app.tables import Job, ModelVersion
from tests.factories import login, make_user
from tests.job_factories import store_patch_set
from tests.models.synthetic import blob_patches

HTML = {"accept": "text/html"}
HTMX = {"HX-Request": "true"}
POLLS = 'hx-trigger="load delay:1s"'


def store_dataset(db: Database, name: str = "real32") -> str:
    return store_patch_set(db, name, blob_patches(2, codes=("GGO", "NOR")))


def add_job(db: Database, **values: Any) -> int:
    with db.session() as session:
        job = Job(kind="train_gan", params={"dataset": "real32", "steps": 40, "seed": 0})
        for key, value in values.items():
            setattr(job, key, value)
        session.add(job)
        session.flush()
        return job.id


def png(width: int = 16, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 128).save(out, format="PNG")
    return out.getvalue()


def add_versions(db: Database, tmp_path: Path) -> tuple[int, int]:
    gan_ckpt = tmp_path / "gan-v1.pt"
    gan_ckpt.write_bytes(b"ckpt")
    gan_ckpt.with_suffix(".png").write_bytes(png())
    gan_metrics = {
        "train_seconds": 12.5,
        "c2st_accuracy": 0.6125,
        "fd": 3.21,
        "precision": 0.7,
        "recall": 0.55,
        "label_fidelity": {"overall": 0.875},
        "memorisation": {"near_copies": 2, "near_copy_fraction": 0.0625},
    }
    lineage = {
        "dataset": "real32",
        "snapshot": "abcdef0123456789",
        "run": {"seed": 3, "code_version": "0.1.0+deadbeef", "torch": "2.x", "device": "cpu"},
    }
    classifier_metrics = {
        "mode": "gan-pretrain",
        "leakage": True,  # a fixed generated set
        "accuracy": {"value": 0.8123, "ci95": [0.71, 0.9]},
        "paired_vs_real_only": {
            "accuracy_difference": {"value": 0.05, "ci95": [-0.02, 0.11]},
            "mcnemar_p": 0.21,
        },
    }
    with db.session() as session:
        gan = ModelVersion(
            kind="gan",
            version=1,
            metrics=gan_metrics,
            lineage=lineage,
            checkpoint_path=str(gan_ckpt),
        )
        clf = ModelVersion(
            kind="classifier",
            version=1,
            metrics=classifier_metrics,
            lineage={**lineage, "parent_gan_version": 1},
            checkpoint_path=str(tmp_path / "classifier-v1.pt"),
            is_current=True,
        )
        session.add_all([gan, clf])
        session.flush()
        return gan.id, clf.id


def test_roles(client: TestClient, db: Database, tmp_path: Path) -> None:
    job_id = add_job(db)
    gan_id, _ = add_versions(db, tmp_path)
    pages = ["/jobs", f"/jobs/{job_id}", "/jobs/new", "/models"]
    for path in pages:
        anonymous = client.get(path, headers=HTML, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
        assert client.get(path).status_code == 401

    login(client, make_user(db, "reader"))
    for path in [*pages, f"/models/{gan_id}/sheet.png"]:
        assert client.get(path).status_code == 403, path

    csrf = login(client, make_user(db, "coordinator"))
    listing = client.get("/jobs")
    assert listing.status_code == 200 and f'href="/jobs/{job_id}"' in listing.text
    assert "/jobs/new" not in listing.text and "Read-only" in listing.text
    job_page = client.get(f"/jobs/{job_id}")
    assert job_page.status_code == 200 and "/cancel" not in job_page.text
    models = client.get("/models")
    assert models.status_code == 200 and "/promote" not in models.text
    assert "/checkpoint" not in models.text
    assert client.get(f"/models/{gan_id}/sheet.png").status_code == 200
    write = {"X-CSRF-Token": csrf}
    assert client.get("/jobs/new").status_code == 403
    assert client.post("/jobs/new?kind=train_gan", headers=write).status_code == 403
    assert client.post(f"/jobs/{job_id}/cancel", headers=write).status_code == 403
    assert client.post(f"/models/{gan_id}/promote", headers=write).status_code == 403

    login(client, make_user(db, "admin"))
    listing = client.get("/jobs")
    assert 'href="/jobs/new?kind=train_gan"' in listing.text
    assert f"/jobs/{job_id}/cancel" in client.get(f"/jobs/{job_id}").text
    home = client.get("/").text
    assert 'href="/jobs"' in home and 'href="/models"' in home


def test_form_defaults_refusals_and_start(client: TestClient, db: Database) -> None:
    name = store_dataset(db)
    csrf = login(client, make_user(db, "admin"))
    form = client.get("/jobs/new?kind=train_gan")
    assert form.status_code == 200 and f'<option value="{name}" selected>' in form.text
    assert client.get("/jobs/new?kind=nonsense").status_code == 404

    typed = {"csrf_token": csrf, "dataset": "nope", "steps": "40", "seed": "7"}
    refused = client.post("/jobs/new?kind=train_gan", data=typed)
    assert refused.status_code == 404 and "<html" in refused.text
    assert "no dataset named &#39;nope&#39;" in refused.text
    assert 'name="seed" type="number" min="0" value="7"' in refused.text
    both = {**typed, "dataset": name, "epochs": "2"}
    refused = client.post("/jobs/new?kind=train_gan", data=both, headers=HTMX)
    assert refused.status_code == 200 and "<html" not in refused.text
    assert 'role="alert"' in refused.text and "give epochs or steps, not both" in refused.text
    assert 'name="epochs" type="number" min="1" value="2"' in refused.text
    with db.session() as session:
        assert session.query(Job).count() == 0

    good = {"csrf_token": csrf, "dataset": name, "steps": "40", "seed": "7"}
    started = client.post("/jobs/new?kind=train_gan", data=good, follow_redirects=False)
    assert started.status_code == 303
    with db.session() as session:
        (job,) = session.query(Job).all()
        assert (job.kind, job.status, job.params["steps"], job.params["seed"]) == (
            "train_gan",
            "queued",
            40,
            7,
        )
    assert started.headers["location"] == f"/jobs/{job.id}"
    again = client.post("/jobs/new?kind=train_gan", data=good, headers=HTMX)
    assert again.headers["HX-Redirect"] == f"/jobs/{job.id}?same=1"
    assert "The same job was asked for before" in client.get(again.headers["HX-Redirect"]).text


def test_generate_and_classifier_forms_offer_the_installation(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    store_dataset(db)
    add_versions(db, tmp_path)
    login(client, make_user(db, "admin"))
    generate = client.get("/jobs/new?kind=generate", headers=HTMX).text
    assert "<html" not in generate and '<option value="1" selected>GAN v1' in generate
    assert 'value="gan-v1-generated"' in generate and 'drop_near_copies" checked' in generate
    evaluate = client.get("/jobs/new?kind=evaluate").text
    assert '<option value="classifier:1" selected>' in evaluate
    classifier = client.get("/jobs/new?kind=train_classifier").text
    assert "<option selected>gan-pretrain</option>" in classifier  # leak-free by default:
    assert '<option value="" selected>one GAN per fold (leak-free)</option>' in classifier
    assert 'name="gan_steps" type="number" min="1" value="1600"' in classifier


def test_live_fragment_polls_while_running_then_stops(
    client: TestClient, db: Database, settings: Settings
) -> None:
    losses = [[20, 1.4, 0.7], [40, 1.1, 0.9], [60, 1.2, 1.3]]
    job_id = add_job(
        db,
        status="running",
        progress=0.42,
        message="step 60/200",
        metrics={"losses": losses, "samples_step": 60},
        log_tail="line one\nline two",
        attempts=1,
    )
    grid = settings.data_dir / "jobs" / str(job_id) / "samples.png"
    grid.parent.mkdir(parents=True)
    grid.write_bytes(png(64, 16))
    login(client, make_user(db, "coordinator"))

    page = client.get(f"/jobs/{job_id}")
    assert "<html" in page.text and 'id="job-status"' in page.text and POLLS in page.text
    fragment = client.get(f"/jobs/{job_id}", headers=HTMX)
    text = fragment.text
    assert "<html" not in text and text.lstrip().startswith('<div id="job-status"')
    assert POLLS in text and 'value="0.42"' in text and "step 60/200" in text
    assert text.count("<polyline") == 2 and "line two" in text
    src = f"/jobs/{job_id}/samples.png?step=60&amp;attempt=1"
    assert f'src="{src}"' in text
    image = client.get(src.replace("&amp;", "&"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (64, 16)

    listing = client.get("/jobs", headers=HTMX).text
    assert "<html" not in listing and 'hx-trigger="load delay:2s"' in listing

    with db.session() as session:
        job = session.get_one(Job, job_id)
        job.status, job.progress, job.result = "succeeded", 1.0, {"train_seconds": 9.5}
    done = client.get(f"/jobs/{job_id}", headers=HTMX).text
    assert "hx-trigger" not in done and "train seconds" in done
    assert "hx-trigger" not in client.get("/jobs", headers=HTMX).text


@pytest.mark.parametrize("htmx", [True, False])
def test_admin_cancels_a_queued_job(client: TestClient, db: Database, htmx: bool) -> None:
    job_id = add_job(db)
    csrf = login(client, make_user(db, "admin"))
    headers = {"X-CSRF-Token": csrf, **(HTMX if htmx else {})}
    answer = client.post(f"/jobs/{job_id}/cancel", headers=headers, follow_redirects=False)
    if htmx:
        assert answer.status_code == 200 and 'data-status="cancelled"' in answer.text
        assert "hx-trigger" not in answer.text
    else:
        assert answer.status_code == 303 and answer.headers["location"] == f"/jobs/{job_id}"
    assert client.post(f"/jobs/{job_id}/cancel", headers=headers).status_code == 409


def test_models_side_by_side_and_promote(client: TestClient, db: Database, tmp_path: Path) -> None:
    gan_id, clf_id = add_versions(db, tmp_path)
    csrf = login(client, make_user(db, "admin"))
    page = client.get("/models").text
    for shown in ("0.613", "3.21", "0.700 / 0.550", "0.875", "6.2%", "12 s", "gan-pretrain"):
        assert shown in page, shown
    assert "0.812" in page and "(95% CI 0.710–0.900)" in page and "McNemar p 0.210" in page
    assert page.count("optimistic: leakage</span>") == 2  # beside accuracy and the difference
    assert "abcdef012345<" in page and "0.1.0+deadbeef" in page and "2.x on cpu" in page
    assert f'src="/models/{gan_id}/sheet.png"' in page
    assert f'href="/api/v1/models/{gan_id}/checkpoint"' in page
    assert f'hx-post="/models/{gan_id}/promote"' in page
    assert f'hx-post="/models/{clf_id}/promote"' not in page  # already current

    promoted = client.post(f"/models/{gan_id}/promote", headers={"X-CSRF-Token": csrf, **HTMX})
    assert promoted.status_code == 200 and promoted.text.lstrip().startswith('<div id="models">')
    assert f'hx-post="/models/{gan_id}/promote"' not in promoted.text
    sheet = client.get(f"/models/{gan_id}/sheet.png")
    assert sheet.status_code == 200 and sheet.content.startswith(b"\x89PNG")
    assert client.get(f"/models/{clf_id}/sheet.png").status_code == 404


def test_unmeasured_gan_links_its_evaluate_job(client: TestClient, db: Database) -> None:
    evaluate = add_job(db, kind="evaluate", params={"gan": 1}, status="queued")
    trained = add_job(db, status="succeeded", result={"model_version": 1, "evaluate_job": evaluate})
    with db.session() as session:
        session.add(ModelVersion(kind="gan", version=1, job_id=trained, checkpoint_path="x.pt"))
    login(client, make_user(db, "admin"))
    page = client.get("/models").text
    assert f'<a href="/jobs/{evaluate}">evaluate job #{evaluate}</a> is queued' in page


def test_models_page_states_the_pretraining_finding_with_its_figure(
    client: TestClient, db: Database
) -> None:
    login(client, make_user(db, "coordinator"))
    page = client.get("/models").text
    assert "Does pre-training on generated patches help?" in page
    assert "at 25%: <strong>+0.078 [+0.054, +0.102]</strong>" in page  # report cohorts, run 3
    assert "The GAN's length is the lever." in page and "+0.081 [+0.062, +0.100]" in page
    assert "With 400-step GANs the gain at 25% was +0.004 [−0.020, +0.028]: none." in page
    assert "On a cohort from another generator" in page and "−0.007 [−0.030, +0.017]" in page
    figure = client.get("/static/img/pretrain-fraction.png")
    assert figure.status_code == 200 and figure.content.startswith(b"\x89PNG")
