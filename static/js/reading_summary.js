// At the end of a study, the reader's own summary: items answered, reading time, practice
// score and flags (GET /api/v1/reading/studies/{id}/summary; never a counted item's score).
(() => {
  const root = document.getElementById("reading");
  const box = document.getElementById("summary");

  function duration(ms) {
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m} min ${Math.round(s - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  function row(term, text) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = text;
    box.append(dt, dd);
  }

  root.addEventListener("reading:done", async () => {
    const res = await fetch(`/api/v1/reading/studies/${root.dataset.study}/summary`, { credentials: "same-origin" });
    if (!res.ok) return;
    const s = await res.json();
    box.replaceChildren();
    row("Items answered", `${s.answered} of ${s.total}`);
    if (s.median_ms !== null) row("Reading time", `${duration(s.reading_ms)} in all, ${duration(s.median_ms)} per item (median)`);
    if (s.practice_answered) row("Practice", `${s.practice_right} of ${s.practice_answered} right`);
    if (s.flagged) row("Flagged", `${s.flagged} item${s.flagged === 1 ? "" : "s"}`);
    box.hidden = false;
  });
})();
