// The reading loop: fetch the next item, collect the answer by keyboard or click, submit,
// and only then show the next item. Keys are documented on the page and in docs/reader_study.md.
(() => {
  const root = document.getElementById("reading");
  const $ = (id) => document.getElementById(id);
  const cfg = {
    study: root.dataset.study,
    csrf: root.dataset.csrf,
    askConfidence: root.dataset.askConfidence === "true",
    askLabel: root.dataset.askLabel === "true",
    labelKeys: JSON.parse(root.dataset.labelKeys),
    labelNames: JSON.parse(root.dataset.labelNames),
    practiceItems: Number(root.dataset.practiceItems || 0),
  };
  const keyToLabel = Object.fromEntries(Object.entries(cfg.labelKeys).map(([c, k]) => [k.toLowerCase(), c]));
  let item = null, answer = {}, shownAt = 0, busy = false, feedbackShown = false;
  let pending = null, step = null; // an item held back behind a step: the tutorial, "practice done"
  const passed = new Set(); // the steps passed on this page
  let hinting = false; // a "Choose ..." hint is showing: it follows the answer and clears when complete

  async function api(method, url, body) {
    const res = await fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.detail || res.statusText);
    return data;
  }

  function show(next, previousAnswer) {
    item = next;
    answer = previousAnswer ? { ...previousAnswer } : {};
    feedbackShown = false;
    hinting = false;
    $("feedback").hidden = true;
    $("feedback").className = "feedback";
    $("message").textContent = "";
    // Practice apart: "1 / 2" beside the practice badge, then counted items from "1 / N",
    // N as the coordinator counts them.
    const skip = item.practice ? 0 : cfg.practiceItems;
    const total = item.practice ? cfg.practiceItems : item.total - cfg.practiceItems;
    $("counter").textContent = `${item.position - skip} / ${total}`;
    $("bar").value = (item.position - skip - 1) / total;
    $("practice").hidden = !item.practice;
    document.querySelectorAll("#reading .step").forEach((s) => { s.hidden = true; });
    $("previous").hidden = !item.previous;
    $("item").hidden = false;
    root.dataset.item = item.item; // for the flag (reading_flag.js)
    shownAt = 0;
    viewer.show(item).catch(fail);
    render();
    root.dispatchEvent(new CustomEvent("reading:item"));
  }

  function render() {
    document.querySelectorAll("[data-verdict]").forEach((b) => b.classList.toggle("chosen", b.dataset.verdict === answer.verdict));
    document.querySelectorAll("[data-confidence]").forEach((b) => b.classList.toggle("chosen", Number(b.dataset.confidence) === answer.confidence));
    document.querySelectorAll("[data-label]").forEach((b) => b.classList.toggle("chosen", b.dataset.label === answer.label));
    if (hinting) {
      $("message").textContent = missing();
      hinting = Boolean($("message").textContent);
    }
  }

  async function loadNext() {
    const next = await api("GET", `/api/v1/reading/next?study=${cfg.study}`);
    const before = stepBefore(next);
    if (before) {
      // A step of its own before the patch is shown (so its reading time starts after it).
      step = before;
      pending = next;
      item = null;
      delete root.dataset.item;
      $("item").hidden = true;
      $("bar").value = 0;
      $("practice").hidden = true;
      $("counter").textContent = "";
      $(step).hidden = false;
      return;
    }
    if (next.done) {
      $("item").hidden = true;
      $("done").hidden = false;
      $("bar").value = 1;
      $("practice").hidden = true;
      $("counter").textContent = `${root.dataset.countedItems} / ${root.dataset.countedItems}`;
      root.dispatchEvent(new CustomEvent("reading:done")); // the summary (reading_summary.js)
      return;
    }
    show(next);
  }

  // The tutorial before the first item (until it is answered, so again after a reload), and
  // "practice done" before the first counted item (until that is answered).
  function stepBefore(next) {
    if (next.done) return null;
    if (next.position === 1 && !passed.has("tutorial")) return "tutorial";
    const firstCounted = cfg.practiceItems && next.position === cfg.practiceItems + 1;
    return firstCounted && !passed.has("practice-done") ? "practice-done" : null;
  }

  async function goBack() {
    if (!item || !item.previous || busy) return;
    const prev = await api("GET", `/api/v1/reading/${item.previous}`);
    const j = prev.judgment || {};
    show(prev, { verdict: j.verdict, confidence: j.confidence, label: j.label });
  }

  function missing() {
    if (!answer.verdict) return "Choose real (R) or generated (G).";
    if (cfg.askConfidence && !answer.confidence) return "Choose a confidence from 1 to 5.";
    if (cfg.askLabel && !answer.label) return "Choose a sign label.";
    return "";
  }

  async function submit() {
    if (busy || !item) return;
    if (feedbackShown) return loadNext().catch(fail);
    const problem = missing();
    if (problem) { $("message").textContent = problem; hinting = true; return; }
    busy = true;
    try {
      const body = {
        verdict: answer.verdict,
        confidence: cfg.askConfidence ? answer.confidence : null,
        label: cfg.askLabel ? answer.label : null,
        duration_ms: Math.round(performance.now() - shownAt),
      };
      const saved = await api("POST", `/api/v1/reading/${item.item}`, body);
      if (saved.feedback) {
        feedbackShown = true;
        showFeedback(saved.feedback, body);
      } else {
        await loadNext();
      }
    } catch (err) { fail(err); } finally { busy = false; }
  }

  // Practice only: was the answer right, and what the patch really is, by name.
  function showFeedback(truth, given) {
    const name = (code) => cfg.labelNames[code] || code;
    const right = given.verdict === truth.source;
    const parts = [`${right ? "Right" : "Wrong"}: this patch is ${truth.source}`];
    if (!right) parts[0] += ` (you said ${given.verdict})`;
    if (given.label) {
      parts.push(given.label === truth.label
        ? `the sign, ${name(truth.label)}, is right too`
        : `its sign is ${name(truth.label)}, not ${name(given.label)}`);
    } else {
      parts.push(`its sign is ${name(truth.label)}`);
    }
    const box = $("feedback");
    box.className = `feedback ${right ? "right" : "wrong"}`;
    box.replaceChildren(`Practice. ${parts.join("; ")}. `);
    const go = document.createElement("span");
    go.className = "muted";
    go.textContent = "Press Enter to go on.";
    box.append(go);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" }); // under Submit, off a phone's screen
  }

  function fail(err) { hinting = false; $("message").textContent = err.message; }

  function start() {
    if (!pending) return;
    const next = pending;
    pending = null;
    passed.add(step);
    show(next);
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]") || event.target.closest("input, textarea, select")) return;
    if (pending && event.key === "Enter") { event.preventDefault(); start(); return; }
    if (!item) return;
    const key = event.key.toLowerCase();
    if (key === "enter") submit();
    else if (key === "backspace") goBack().catch(fail);
    else if (key === "r") answer.verdict = "real";
    else if (key === "g") answer.verdict = "generated";
    else if (cfg.askConfidence && "12345".includes(key) && key.length === 1) answer.confidence = Number(key);
    else if (cfg.askLabel && keyToLabel[key]) answer.label = keyToLabel[key];
    else return;
    event.preventDefault();
    render();
  }

  function onClick(event) {
    const button = event.target.closest("button");
    if (button && "start" in button.dataset) return start();
    if (!button || !item) return;
    if (button.dataset.verdict) answer.verdict = button.dataset.verdict;
    else if (button.dataset.confidence) answer.confidence = Number(button.dataset.confidence);
    else if (button.dataset.label) answer.label = button.dataset.label;
    else if (button.id === "submit") return submit();
    else if (button.id === "previous") return goBack().catch(fail);
    render();
  }

  // The image viewer (viewer.js) draws each item; the reading time starts when it is on screen.
  const viewer = window.patchViewer($("viewer"), () => { if (!shownAt) shownAt = performance.now(); });
  document.addEventListener("keydown", onKey);
  root.addEventListener("click", onClick);
  loadNext().catch(fail);
})();
