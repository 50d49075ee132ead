// The postmortem editor and conflict page: list rows, copy buttons, unsaved-changes
// warning. The live preview and the blameless check are plain htmx attributes.
// No inline scripts anywhere: the Content-Security-Policy forbids them.
(() => {
  "use strict";

  // The list parts are Django formsets and work without JavaScript: "Add" posts
  // the form back with one more blank row, "Remove" is a checkbox, "Position"
  // a number. With JavaScript, rows are added in place from the formset's empty
  // form, moved with arrow buttons, and a removed row is greyed out.
  document.documentElement.classList.add("js-rows");

  function rowsOf(list) {
    return Array.from(list.querySelectorAll(":scope > [data-row]"));
  }

  // The first row cannot go up, nor the last one down.
  function updateArrows(list) {
    const rows = rowsOf(list);
    rows.forEach((row, index) => {
      const up = row.querySelector("[data-move-row=up]");
      const down = row.querySelector("[data-move-row=down]");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === rows.length - 1;
    });
  }

  function renumber(list) {
    rowsOf(list).forEach((row, index) => {
      const order = row.querySelector("input[name$='-ORDER']");
      if (order) order.value = index + 1;
    });
    updateArrows(list);
  }

  document.querySelectorAll("[data-rows]").forEach(updateArrows);

  function addRow(button) {
    const template = document.getElementById(button.dataset.addRow);
    const list = document.getElementById(button.dataset.list);
    const total = list && document.querySelector(
      `input[name="${list.dataset.rows}-TOTAL_FORMS"]`
    );
    if (!template || !total) return false;
    const index = String(parseInt(total.value, 10) || 0);
    const fragment = template.content.cloneNode(true);
    fragment.querySelectorAll("[name], [id], [for]").forEach((element) => {
      for (const attribute of ["name", "id", "for"]) {
        const value = element.getAttribute(attribute);
        if (value) element.setAttribute(attribute, value.replace("__prefix__", index));
      }
    });
    const row = fragment.querySelector("[data-row]");
    list.appendChild(fragment);
    total.value = String(Number(index) + 1);
    updateArrows(list);
    const first = row && row.querySelector("textarea, input[type=text]");
    if (first) first.focus();
    return true;
  }

  function moveRow(button) {
    const row = button.closest("[data-row]");
    const list = row && row.parentElement;
    if (!list) return;
    if (button.dataset.moveRow === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (button.dataset.moveRow === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    renumber(list);
    // Keep the focus on the arrow, or on its twin once it is disabled.
    const twin = row.querySelector(
      `[data-move-row=${button.dataset.moveRow === "up" ? "down" : "up"}]`
    );
    (button.disabled ? twin : button).focus();
  }

  document.addEventListener("change", (event) => {
    const remove = event.target.closest("input[name$='-DELETE']");
    const row = remove && remove.closest("[data-row]");
    if (row) row.classList.toggle("row-removed", remove.checked);
  });

  document.addEventListener("click", (event) => {
    const add = event.target.closest("[data-add-row]");
    if (add) {
      if (addRow(add)) {
        event.preventDefault();  // added in place: no round trip
        markDirty();
      }
      return;
    }
    const move = event.target.closest("[data-move-row]");
    if (move) {
      moveRow(move);
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
