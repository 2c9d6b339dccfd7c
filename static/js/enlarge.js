// Gallery tiles (.tile) enlarge while focused (gallery.css); a second click on the enlarged
// patch or Escape shrinks it again.
(() => {
  let wasOpen = null;
  document.addEventListener("pointerdown", (event) => {
    const tile = event.target.closest(".tile");
    wasOpen = tile && tile === document.activeElement ? tile : null;
  });
  document.addEventListener("click", (event) => {
    const tile = event.target.closest(".tile");
    if (tile && tile === wasOpen) tile.blur();
  });
  document.addEventListener("keydown", (event) => {
    const open = document.activeElement;
    if (event.key === "Escape" && open && open.classList.contains("tile")) open.blur();
  });
})();
