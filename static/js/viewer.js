// The patch viewer: an item's int16 HU (GET /api/v1/reading/{item}/hu) drawn on a canvas and
// windowed, zoomed and panned here, in the browser. reading.js creates it with
// `patchViewer(figure, onShown)` and calls `show(item)` for every item; onShown runs once the
// item's pixels are on screen. Gestures and keys are on the page and in docs/reader_study.md.
(() => {
  const ZOOM_STEP = 1.25, MAX_ZOOM = 16;
  const WHEEL_NOTCH = 100; // deltaY of one wheel notch
  const DRAG_DOUBLES_WIDTH = 200; // CSS px of horizontal drag that doubles the window width
  const MAX_WIDTH = 4096, LEVELS = [-2048, 2048];
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const editable = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  function patchViewer(root, onShown) {
    const canvas = root.querySelector("canvas");
    const context = canvas.getContext("2d");
    const source = document.createElement("canvas"); // the patch at its own size, windowed
    const out = (name) => root.querySelector(`#viewer-${name}`);
    const presets = Object.entries(JSON.parse(root.dataset.presets)).map(([name, p]) => ({ name, ...p }));
    const fullTarget = document.getElementById(root.dataset.fullScreen) || root;
    let hu = null, cols = 0, rows = 0, request = 0;
    let preset = 0, win = { ...presets[0] }, zoom = 1, pan = { x: 0, y: 0 }; // pan in CSS px
    let panMode = false, drag = null;
    const pointers = new Map(); // pointerId → {x, y} while pressed

    async function show(item) {
      const asked = ++request;
      canvas.dataset.item = "";
      const res = await fetch(item.hu.url, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`the image did not load (${res.status})`);
      const bytes = new DataView(await res.arrayBuffer());
      if (asked !== request) return; // a later item was asked for meanwhile
      cols = item.hu.width;
      rows = item.hu.height;
      hu = new Int16Array(cols * rows);
      for (let i = 0; i < hu.length; i++) hu[i] = bytes.getInt16(2 * i, true);
      source.width = cols;
      source.height = rows;
      drag = null;
      pointers.clear();
      selectPreset(0);
      resetView();
      canvas.dataset.item = item.item;
      onShown();
    }

    // Window: level − width/2 → black, level + width/2 → white, as the server's PNGs.
    function paintSource() {
      const image = new ImageData(cols, rows);
      const low = win.level - win.width / 2, scale = 255 / win.width;
      const rgba = image.data;
      for (let i = 0; i < hu.length; i++) {
        const gray = clamp(Math.round((hu[i] - low) * scale), 0, 255);
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = gray;
        rgba[4 * i + 3] = 255;
      }
      source.getContext("2d").putImageData(image, 0, 0);
    }

    // Where the patch lies on the canvas, in canvas pixels.
    function layout() {
      const k = canvas.width / canvas.clientWidth; // canvas pixels per CSS pixel
      const scale = Math.min(canvas.width / cols, canvas.height / rows) * zoom;
      return {
        k, scale,
        x: canvas.width / 2 + pan.x * k - (cols * scale) / 2,
        y: canvas.height / 2 + pan.y * k - (rows * scale) / 2,
      };
    }

    function draw() {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.round(canvas.clientWidth * dpr), h = Math.round(canvas.clientHeight * dpr);
      if (w && h && (canvas.width !== w || canvas.height !== h)) { canvas.width = w; canvas.height = h; }
      context.fillStyle = "#000";
      context.fillRect(0, 0, canvas.width, canvas.height);
      if (!hu) return;
      const at = layout();
      context.imageSmoothingEnabled = false; // whole patch pixels, never smoothed
      context.drawImage(source, at.x, at.y, cols * at.scale, rows * at.scale);
      out("window").textContent = `W ${win.width} / L ${win.level}` + (custom() ? "" : ` (${win.name})`);
      out("zoom").textContent = `zoom ${Math.round(zoom * 100)}%`;
      root.querySelectorAll("[data-preset]").forEach((b) => b.classList.toggle("chosen", !custom() && b.dataset.preset === win.name));
    }

    const custom = () => !presets.some((p) => p.name === win.name && p.width === win.width && p.level === win.level);

    function setWindow(width, level) {
      win = { name: "", width: clamp(Math.round(width), 1, MAX_WIDTH), level: clamp(Math.round(level), ...LEVELS) };
      paintSource();
      draw();
    }

    function selectPreset(index) {
      preset = (index + presets.length) % presets.length;
      win = { ...presets[preset] };
      paintSource();
      draw();
    }

    function resetView() {
      zoom = 1;
      pan = { x: 0, y: 0 };
      draw();
    }

    function reset() {
      selectPreset(preset);
      resetView();
    }

    // Zoom to Z keeping the patch point under (cx, cy) (CSS px from the canvas centre) in place.
    function zoomAbout(z, cx = 0, cy = 0, from = { zoom, pan }) {
      const next = clamp(z, 1, MAX_ZOOM), ratio = next / from.zoom;
      zoom = next;
      pan = zoom === 1 ? { x: 0, y: 0 } : { x: cx - (cx - from.pan.x) * ratio, y: cy - (cy - from.pan.y) * ratio };
      draw();
    }

    const fromCentre = (e) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left - r.width / 2, y: e.clientY - r.top - r.height / 2 };
    };

    // The HU under the pointer, with its pixel (column, row from the top left).
    function readOut(e) {
      const r = canvas.getBoundingClientRect(), at = layout();
      const col = Math.floor(((e.clientX - r.left) * at.k - at.x) / at.scale);
      const row = Math.floor(((e.clientY - r.top) * at.k - at.y) / at.scale);
      const inside = hu && col >= 0 && row >= 0 && col < cols && row < rows;
      out("hu").textContent = inside ? `${hu[row * cols + col]} HU at (${col}, ${row})` : "HU —";
    }

    function onPointerDown(e) {
      if (!hu) return;
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      const start = { x: e.clientX, y: e.clientY, zoom, pan: { ...pan }, width: win.width, level: win.level };
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const mid = fromCentre({ clientX: (a.x + b.x) / 2, clientY: (a.y + b.y) / 2 });
        drag = { kind: "pinch", ...start, mid, distance: Math.hypot(a.x - b.x, a.y - b.y) || 1 };
      } else if (pointers.size === 1) {
        const panning = panMode || e.shiftKey || e.button === 2;
        drag = { kind: panning ? "pan" : "window", ...start };
      } else {
        drag = null;
      }
      readOut(e);
    }

    function onPointerMove(e) {
      if (!hu) return;
      if (pointers.has(e.pointerId)) pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (drag && pointers.has(e.pointerId)) {
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        if (drag.kind === "window") {
          // Right widens, left narrows; down raises the level (darker), up lowers it (brighter).
          setWindow(drag.width * 2 ** (dx / DRAG_DOUBLES_WIDTH), drag.level + (dy * drag.width) / (2 * DRAG_DOUBLES_WIDTH));
        } else if (drag.kind === "pan") {
          pan = { x: drag.pan.x + dx, y: drag.pan.y + dy };
          draw();
        } else if (drag.kind === "pinch" && pointers.size === 2) {
          const [a, b] = [...pointers.values()];
          const mid = fromCentre({ clientX: (a.x + b.x) / 2, clientY: (a.y + b.y) / 2 });
          zoomAbout(drag.zoom * (Math.hypot(a.x - b.x, a.y - b.y) / drag.distance), drag.mid.x, drag.mid.y, drag);
          pan = { x: pan.x + mid.x - drag.mid.x, y: pan.y + mid.y - drag.mid.y };
          draw();
        }
      }
      readOut(e);
    }

    function onPointerUp(e) {
      pointers.delete(e.pointerId);
      drag = null; // after a pinch the finger left on the glass does nothing until lifted
    }

    function onWheel(e) {
      if (!hu) return;
      e.preventDefault();
      const at = fromCentre(e);
      zoomAbout(zoom * ZOOM_STEP ** (-e.deltaY / WHEEL_NOTCH), at.x, at.y);
      readOut(e);
    }

    function toggleFullScreen() {
      if (fullTarget.classList.contains("full")) return leaveFullScreen();
      fullTarget.classList.add("full");
      root.querySelector("[data-view=full]").setAttribute("aria-pressed", "true");
      if (fullTarget.requestFullscreen) fullTarget.requestFullscreen().catch(() => {}); // the class alone where refused
    }

    function leaveFullScreen() {
      fullTarget.classList.remove("full");
      root.querySelector("[data-view=full]").setAttribute("aria-pressed", "false");
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    }

    function togglePanMode() {
      panMode = !panMode;
      root.querySelector("[data-view=pan]").setAttribute("aria-pressed", String(panMode));
    }

    const actions = {
      "zoom-in": () => zoomAbout(zoom * ZOOM_STEP),
      "zoom-out": () => zoomAbout(zoom / ZOOM_STEP),
      reset,
      full: toggleFullScreen,
      pan: togglePanMode,
    };

    function onClick(e) {
      const button = e.target.closest("button");
      if (!button || !hu) return;
      if (button.dataset.preset) selectPreset(presets.findIndex((p) => p.name === button.dataset.preset));
      else if (actions[button.dataset.view]) actions[button.dataset.view]();
    }

    function onKey(e) {
      if (!hu || root.closest("[hidden]")) return;
      if (e.ctrlKey || e.metaKey || e.altKey || editable(e.target)) return;
      if (document.querySelector("dialog[open]")) return; // e.g. the help: its keys, not ours
      const key = e.key.toLowerCase();
      if (key === "w") selectPreset(preset + 1);
      else if (key === "+" || key === "=") actions["zoom-in"]();
      else if (key === "-" || key === "_") actions["zoom-out"]();
      else if (key === "0") reset();
      else if (key === "f") toggleFullScreen();
      else if (key === "escape" && fullTarget.classList.contains("full")) leaveFullScreen();
      else return;
      e.preventDefault();
    }

    canvas.addEventListener("pointerdown", onPointerDown);
    canvas.addEventListener("pointermove", onPointerMove);
    canvas.addEventListener("pointerup", onPointerUp);
    canvas.addEventListener("pointercancel", onPointerUp);
    // A mouse leaving clears the read-out; a finger's stays where it last touched.
    canvas.addEventListener("pointerleave", (e) => { if (!drag && e.pointerType === "mouse") out("hu").textContent = "HU —"; });
    canvas.addEventListener("wheel", onWheel, { passive: false });
    canvas.addEventListener("contextmenu", (e) => e.preventDefault()); // right-drag pans
    root.addEventListener("click", onClick);
    document.addEventListener("keydown", onKey);
    document.addEventListener("fullscreenchange", () => { if (!document.fullscreenElement) leaveFullScreen(); });
    // Leave full screen when the item is hidden (the study's end, the practice-done step).
    new MutationObserver(() => { if (fullTarget.hidden) leaveFullScreen(); })
      .observe(fullTarget, { attributes: true, attributeFilter: ["hidden"] });
    new ResizeObserver(draw).observe(canvas);
    out("hu").textContent = "HU —";
    return { show };
  }

  window.patchViewer = patchViewer;
})();
