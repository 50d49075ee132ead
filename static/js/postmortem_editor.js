// The postmortem editor and conflict page: list rows, copy buttons, unsaved-changes
// warning. The live preview and the blameless check are plain htmx attributes.
// No inline scripts anywhere: the Content-Security-Policy forbids them.
(() => {
  "use strict";

  function toggleEmptyHint(list) {
    const hint = document.querySelector(`[data-empty-hint="${list.id}"]`);
    if (hint) hint.hidden = list.querySelector("[data-row]") !== null;
  }

  document.addEventListener("click", (event) => {
    const add = event.target.closest("[data-add-row]");
    if (add) {
      const template = document.getElementById(add.dataset.addRow);
      const list = document.getElementById(add.dataset.list);
      if (!template || !list) return;
      const fragment = template.content.cloneNode(true);
      const row = fragment.querySelector("[data-row]");
      list.appendChild(fragment);
      toggleEmptyHint(list);
      const first = row && row.querySelector("input:not([type=hidden]), textarea");
      if (first) first.focus();
      markDirty();
      return;
    }
    const remove = event.target.closest("[data-remove-row]");
    if (remove) {
      const row = remove.closest("[data-row]");
      const list = row && row.parentElement;
      if (row) row.remove();
      if (list) toggleEmptyHint(list);
      markDirty();
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const source = document.getElementById(copy.dataset.copy);
      if (!source) return;
      const done = () => {
        const label = copy.textContent;
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, () => {
          source.select();
        });
      } else {
        source.focus();
        source.select();
        // The text is selected so the writer can copy it with the keyboard.
        try { if (document.execCommand("copy")) done(); } catch (e) { /* selected */ }
      }
    }
  });

  // Warn before leaving the editor with unsaved changes.
  let dirty = false;
  function markDirty() { dirty = true; }
  document.addEventListener("input", (event) => {
    if (event.target.closest("form[data-unsaved-warning]")) markDirty();
  });
  document.addEventListener("submit", (event) => {
    if (event.target.matches("form[data-unsaved-warning]")) dirty = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
