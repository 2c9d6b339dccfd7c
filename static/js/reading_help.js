// The key help of the reading page: "?" opens a dialog listing every key the page describes
// and how the study works; "?" again or Esc closes it. A key is described by a button
// holding a <kbd> (described by its data-key-help, else its title, else its text) or by any
// element with data-key and data-key-help; data-help-skip leaves an element out.
(() => {
  const dialog = document.getElementById("help");
  const list = document.getElementById("help-keys");

  function described() {
    const keys = new Map();
    document.querySelectorAll("button kbd, [data-key][data-key-help]").forEach((el) => {
      const owner = el.dataset.key ? el : el.closest("button");
      if (owner.closest("#help, [data-help-skip]")) return;
      const key = owner.dataset.key || el.textContent.trim();
      const text = owner.dataset.keyHelp || owner.title || owner.textContent.replace(el.textContent, "").trim();
      if (key && text && !keys.has(key)) keys.set(key, text);
    });
    return keys;
  }

  function open() {
    list.replaceChildren();
    described().forEach((text, key) => {
      const term = document.createElement("dt");
      const kbd = document.createElement("kbd");
      kbd.textContent = key;
      term.append(kbd);
      const desc = document.createElement("dd");
      desc.textContent = text;
      list.append(term, desc);
    });
    dialog.showModal();
  }

  document.addEventListener("keydown", (event) => {
    if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select")) return;
    event.preventDefault();
    if (dialog.open) dialog.close();
    else if (!document.querySelector("dialog[open]")) open();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-open-help]")) open();
    else if (event.target.closest("#help [data-close]")) dialog.close();
  });
})();
