"""``make screenshots``: every page of the app at desktop and phone size, from the demo.

Starts ``lungsign demo`` in a fresh temporary data dir on a free port, waits until demo study
1 is open, has the demo readers answer it through the API (reader1 and reader2 finish,
reader3 stops half-way), adds a coordinator, an API token and a draft, then looks at every
page as each role in Debian's Chromium: ``var/screenshots/<page>-<desktop|phone>.png`` and a
``report.txt`` of what looked wrong (HTTP errors, console errors, broken images, content wider
than the phone). The reading and results pages are copied to ``docs/img/`` for the README.
The demo server is stopped whatever happens.

Every GET page of the app's route table is in ``SHOTS`` or ``SKIPPED`` (with the reason):
``tests/test_screenshots_cover_pages.py`` fails when a new page has neither.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "screenshots"
DOCS_IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
STUDY_PREFIX = "demo study 1"
STUDY_WAIT_S = 40 * 60  # demo study 1 opens 1–2 min after start on 2 idle cores
PAGE_WAIT_MS = 20_000
# The README's images in docs/img/: (screenshot, at most this many px from the top), kept
# small: 256 colours, and the long results page cut below its headline, tables and figures.
README_IMAGES = [("reading-desktop", None), ("reading-phone", None), ("results-desktop", 1920)]
# Everything pictured is ready: no htmx request in flight, every image loaded (a broken one
# never is: the page is reported and shot anyway).
SETTLED = (
    "!document.querySelector('.htmx-request') && [...document.images].every("
    "i => !i.getAttribute('src') || (i.complete && i.naturalWidth > 0))"
)


@dataclass(frozen=True)
class Shot:
    """One page as one account sees it."""

    name: str  # var/screenshots/<name>-<size>.png
    route: str  # the route it shows, as the route table spells it
    who: str  # a demo account, "coordinator", or "anonymous"
    url: str  # filled in with Demo.ids, e.g. "/studies/{study}"
    ready: str = "main"  # a selector that is visible once the page is drawn
    status: int = 200


SHOTS = [
    Shot("login", "/login", "anonymous", "/login", "form"),
    Shot("home-reader", "/", "reader3", "/"),
    Shot("reader-home", "/reading", "reader3", "/reading"),
    Shot("intake", "/reading/intake", "reader3", "/reading/intake", "form"),
    Shot("reading", "/reading/{study_id}", "reader3", "/reading/{study}", "#item:not([hidden])"),
    Shot("end-of-study", "/reading/{study_id}", "reader1", "/reading/{study}", "#done"),
    Shot("home-coordinator", "/", "coordinator", "/"),
    Shot("studies", "/studies", "coordinator", "/studies"),
    Shot("study", "/studies/{study_id}", "coordinator", "/studies/{study}"),
    Shot("study-form", "/studies/{study_id}/edit", "coordinator", "/studies/{draft}/edit"),
    Shot("close-confirm", "/studies/{study_id}/close", "coordinator", "/studies/{study}/close"),
    Shot("results", "/studies/{study_id}/results", "coordinator", "/studies/{study}/results"),
    Shot("datasets", "/datasets", "coordinator", "/datasets"),
    Shot("gallery", "/datasets/{dataset_id}/gallery", "coordinator", "/datasets/{real}/gallery"),
    Shot(
        "gallery-generated",
        "/datasets/{dataset_id}/gallery",
        "coordinator",
        "/datasets/{generated}/gallery",
    ),
    Shot("home-admin", "/", "admin", "/"),
    Shot("users", "/admin/users", "admin", "/admin/users"),
    Shot("tokens", "/admin/users/{username}/tokens", "admin", "/admin/users/admin/tokens"),
    Shot("jobs", "/jobs", "admin", "/jobs"),
    Shot("job", "/jobs/{job_id:int}", "admin", "/jobs/{gan_job}"),
    Shot("new-job", "/jobs/new", "admin", "/jobs/new", "form"),
    Shot("models", "/models", "admin", "/models"),
    Shot("api-docs", "/docs", "admin", "/docs", ".swagger-ui .info"),
    Shot("error-404", "", "reader3", "/no-such-page", status=404),
    Shot("error-403", "", "reader3", "/studies", status=403),
]
# GET routes outside /api/ that get no screenshot of their own, and why.
SKIPPED = {
    "/healthz": "JSON liveness probe",
    "/openapi.json": "JSON (pictured by /docs)",
    "/patches/{patch_id}.png": "an image (in the gallery)",
    "/jobs/{job_id:int}/samples.png": "an image (on the job page)",
    "/models/{model_id:int}/sheet.png": "an image (on the models page)",
    "/studies/plan": "htmx fragment of the study form (the planner)",
    "/studies/{study_id}/progress": "htmx fragment of the study page",
    "/datasets/imports/{job_id:int}": "htmx fragment of an upload; a page load goes to /jobs/{id}",
    "/studies/{study_id}/results/gallery": "htmx fragment of the results page (its gallery)",
    "/studies/{study_id}/results/figures/{name}.svg": "an image (on the results page)",
}


def page_routes() -> set[str]:
    """Every GET route outside the JSON API, from the app's route table."""
    from fastapi.routing import APIRoute

    from app.routes import ROUTERS

    return {
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and "GET" in (route.methods or set())
        and not route.path.startswith("/api/")
    }


def uncovered_routes() -> set[str]:
    """Page routes with neither a shot nor a reason to skip them."""
    return page_routes() - {shot.route for shot in SHOTS} - SKIPPED.keys()


# ---- the demo server


@dataclass
class Demo:
    base: str
    passwords: dict[str, str]
    check_alive: Callable[[], None]  # raises once the demo or its pipeline has stopped
    ids: dict[str, Any] = field(default_factory=dict)


class DemoServer:
    """``lungsign demo`` in its own process group; its output goes to OUT/demo.log, its
    pipeline's steps to the terminal too."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUNGSIGN_")}
        env["LUNGSIGN_DATA_DIR"] = str(data_dir)
        lungsign = Path(sys.executable).with_name("lungsign")
        self.lines: list[str] = []
        self.log = (OUT / "demo.log").open("w")
        self.process = subprocess.Popen(
            [str(lungsign), "demo", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its worker too: one killpg stops both
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self.log.write(line)
            self.log.flush()
            if line.startswith("[demo"):  # the pipeline's steps, to show the wait moves on
                print(f"  {line.rstrip()}", flush=True)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"lungsign demo exited ({self.process.returncode}); see demo.log")
        failed = [line for line in self.lines if "demo pipeline stopped" in line]
        if failed:
            raise RuntimeError(failed[0])

    def passwords(self) -> dict[str, str]:
        """The accounts the demo printed (a fresh data dir: all of them)."""
        found = (re.match(r"\s+(\w+)\s+\w+\s+password (\S+)$", line) for line in self.lines)
        return {m.group(1): m.group(2) for m in found if m}

    def stop(self) -> None:
        """SIGTERM to the whole group, SIGKILL after 20 s."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with suppress(ProcessLookupError):  # a worker that outlived the server
            os.killpg(self.process.pid, signal.SIGKILL)
        self.reader.join(timeout=5)
        self.log.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def demo_running() -> Iterator[Demo]:
    """A demo server with its accounts' passwords, stopped (and its data removed) after."""
    with tempfile.TemporaryDirectory(prefix="lungsign-screenshots-") as data_dir:
        port = free_port()
        server = DemoServer(Path(data_dir), port)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while not _answers(base):
                server.check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError("the demo server did not answer /healthz within 2 min")
                time.sleep(0.5)
            yield Demo(base, server.passwords(), server.check_alive)
        finally:
            server.stop()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# ---- the demo's data, through the API


def api_client(demo: Demo, username: str) -> httpx.Client:
    """A cookie session for USERNAME that sends its CSRF token on every request."""
    client = httpx.Client(base_url=demo.base, timeout=60)
    body = {"username": username, "password": demo.passwords[username]}
    response = client.post("/api/v1/auth/login", json=body)
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def wait_for_study(demo: Demo, admin: httpx.Client) -> dict[str, Any]:
    """Demo study 1, once it is open."""
    deadline = time.monotonic() + STUDY_WAIT_S
    while time.monotonic() < deadline:
        for study in admin.get("/api/v1/studies").raise_for_status().json():
            if study["name"].startswith(STUDY_PREFIX) and study["status"] == "open":
                return dict(study)
        demo.check_alive()
        time.sleep(3)
    raise RuntimeError(f"{STUDY_PREFIX!r} did not open within {STUDY_WAIT_S // 60} min")


def answer(reader: httpx.Client, study: dict[str, Any], labels: list[str], limit: int) -> int:
    """Answer up to LIMIT items (practice included) as a reader would; how many."""
    reader.post("/api/v1/reading/intake", json={"experience_years": 8, "subspecialty": "chest"})
    rng = random.Random(str(reader.cookies.get("lungsign_session", "")) + str(limit))
    for answered in range(limit):
        item = reader.get("/api/v1/reading/next", params={"study": study["id"]}).json()
        if item.get("done"):
            return answered
        body: dict[str, Any] = {
            "verdict": rng.choice(["real", "real", "generated"]),
            "duration_ms": rng.randint(1_500, 9_000),
        }
        if study["ask_confidence"]:
            body["confidence"] = rng.randint(2, 5)
        if study["ask_label"]:
            body["label"] = rng.choice(labels)
        reader.post(f"/api/v1/reading/{item['item']}", json=body).raise_for_status()
    return limit


def prepare(demo: Demo) -> None:
    """Readers' answers, a coordinator, an API token and a draft; fills DEMO.ids."""
    admin = api_client(demo, "admin")
    study = wait_for_study(demo, admin)
    print(f"{study['name']!r} is open (study {study['id']})", flush=True)
    datasets = {d["name"]: d for d in admin.get("/api/v1/datasets").raise_for_status().json()}
    real = datasets["demo"]
    generated = next(d for name, d in datasets.items() if name in study["generated"]["datasets"])
    labels = sorted(real["counts"])
    everything = study["practice_items"] + study["items_per_reader"]
    half = study["practice_items"] + study["items_per_reader"] // 2
    for username, limit in (("reader1", everything), ("reader2", everything), ("reader3", half)):
        reader = api_client(demo, username)
        done = answer(reader, study, labels, limit)
        reader.close()
        print(f"{username} answered {done} items", flush=True)
    created = admin.post("/api/v1/users", json={"username": "coordinator", "role": "coordinator"})
    demo.passwords["coordinator"] = created.raise_for_status().json()["password"]
    token = {"username": "admin", "name": "nightly export script", "expires_days": 90}
    admin.post("/api/v1/tokens", json=token).raise_for_status()
    copy = {"name": "demo study 1, second round (draft)"}
    draft = admin.post(f"/api/v1/studies/{study['id']}/copy", json=copy).raise_for_status()
    # the coordinator sees the studies shared with them: give them both
    for study_id in (study["id"], draft.json()["id"]):
        admin.post(
            f"/api/v1/studies/{study_id}/collaborators", json={"username": "coordinator"}
        ).raise_for_status()
    jobs = admin.get("/api/v1/jobs").raise_for_status().json()
    gan_job = next(j["id"] for j in jobs if j["kind"] == "train_gan" and j["status"] == "succeeded")
    demo.ids.update(
        study=study["id"],
        draft=draft.json()["id"],
        real=real["id"],
        generated=generated["id"],
        gan_job=gan_job,
    )
    admin.close()


# ---- the browser


@dataclass
class Finding:
    shot: str
    problem: str


def log_in(context: Any, demo: Demo, username: str) -> None:
    page = context.new_page()
    page.goto(f"{demo.base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/login" in page.url:
        raise RuntimeError(f"{username} could not log in")
    page.close()


def settle(page: Any, timeout_ms: int = PAGE_WAIT_MS) -> bool:
    """Until SETTLED holds (polled: the CSP forbids wait_for_function's eval); False if not."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(SETTLED):
            page.wait_for_timeout(300)  # transitions and late layout
            return True
        page.wait_for_timeout(100)
    return False


def take(context: Any, demo: Demo, shot: Shot) -> list[Finding]:
    """Both sizes of SHOT; what looked wrong."""
    found: list[Finding] = []
    page = context.new_page()
    page.on("pageerror", lambda error: found.append(Finding(shot.name, f"script error: {error}")))

    url = demo.base + shot.url.format(**demo.ids)

    def console(message: Any) -> None:  # failed loads are reported with their URL below
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            found.append(Finding(shot.name, f"console: {message.text}"))

    def response(reply: Any) -> None:
        if reply.status >= 400 and reply.url != url and not reply.url.endswith("/favicon.ico"):
            found.append(Finding(shot.name, f"HTTP {reply.status} for {reply.url}"))

    page.on("console", console)
    page.on("response", response)
    try:
        document = page.goto(url)
        status = document.status if document else 0
        if status != shot.status:
            found.append(Finding(shot.name, f"HTTP {status}, expected {shot.status}"))
        try:
            page.wait_for_selector(shot.ready, state="visible", timeout=PAGE_WAIT_MS)
        except Exception:
            found.append(Finding(shot.name, f"{shot.ready!r} never showed"))
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            if not settle(page):
                found.append(Finding(shot.name, f"{size}: images or htmx never settled"))
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                found.append(Finding(shot.name, f"{size}: {overflow} px wider than the screen"))
            page.screenshot(path=str(OUT / f"{shot.name}-{size}.png"), full_page=True)
    finally:
        page.close()
    return found


def shoot_all(demo: Demo) -> list[Finding]:
    from playwright.sync_api import sync_playwright

    found: list[Finding] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            contexts: dict[str, Any] = {}
            for shot in SHOTS:
                if shot.who not in contexts:
                    width, height = SIZES["desktop"]
                    context = browser.new_context(viewport={"width": width, "height": height})
                    if shot.who != "anonymous":
                        log_in(context, demo, shot.who)
                    contexts[shot.who] = context
                print(f"  {shot.name} ({shot.who})", flush=True)
                found += take(contexts[shot.who], demo, shot)
        finally:
            browser.close()
    return found


def readme_image(name: str, height: int | None) -> None:
    """docs/img/NAME.png from the screenshot: its top HEIGHT px, in 256 colours."""
    from PIL import Image

    image = Image.open(OUT / f"{name}.png").convert("RGB")
    if height is not None:
        image = image.crop((0, 0, image.width, min(height, image.height)))
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    small.save(DOCS_IMG / f"{name}.png", optimize=True)


def main() -> int:
    missing = uncovered_routes()
    if missing:
        print(f"pages with no screenshot and no reason to skip: {sorted(missing)}")
        return 1
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    started = time.monotonic()
    print("starting lungsign demo (demo study 1 opens after a few minutes)…", flush=True)
    with demo_running() as demo:
        prepare(demo)
        findings = shoot_all(demo)
    for name, height in README_IMAGES:
        readme_image(name, height)
    report = [f"{f.shot}: {f.problem}" for f in findings] or ["nothing looked wrong"]
    (OUT / "report.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    seconds = int(time.monotonic() - started)
    print(
        f"{len(SHOTS) * len(SIZES)} screenshots in {OUT} ({seconds} s); README images in docs/img"
    )
    for route, reason in sorted(SKIPPED.items()):
        print(f"  no screenshot of {route}: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
