// Reordering a collection: drag a case, or focus its handle and press Alt+↑/Alt+↓ (or the ↑ ↓
// buttons, which also work without JavaScript as plain forms). Each change sends the whole order
// to the server and announces the new position in a live region.
(function () {
  "use strict";
  const list = document.getElementById("entries");
  if (!list || !list.dataset.reorderUrl) return;
  const status = document.getElementById("reorder-status");
  const textNode = document.getElementById("reorder-text");
  const text = textNode ? JSON.parse(textNode.textContent) : {};
  const csrf = () => document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const items = () => [...list.querySelectorAll(":scope > li.entry")];

  function say(message) {
    status.textContent = "";
    window.setTimeout(() => { status.textContent = message; }, 30);
  }

  function renumber() {
    items().forEach((li, n) => {
      const number = li.querySelector(".entry-number");
      if (number) number.textContent = String(n + 1);
    });
  }

  function announce(li) {
    const all = items();
    say((text.moved || "Moved %(title)s to position %(n)s of %(total)s.")
      .replace("%(title)s", li.dataset.title)
      .replace("%(n)s", String(all.indexOf(li) + 1))
      .replace("%(total)s", String(all.length)));
  }

  async function save(li) {
    renumber();
    const order = items().map((item) => Number(item.dataset.entry));
    const response = await fetch(list.dataset.reorderUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(),
        Accept: "application/json" },
      body: JSON.stringify({ order }),
    }).catch(() => null);
    if (!response || !response.ok) {
      say(text.failed || "The new order could not be saved.");
      return;
    }
    list.dataset.saved = order.join(",");
    if (li) announce(li);
  }

  function move(li, offset) {
    const all = items();
    const here = all.indexOf(li);
    const there = Math.max(0, Math.min(all.length - 1, here + offset));
    if (there === here) return;
    if (offset < 0) list.insertBefore(li, all[there]);
    else list.insertBefore(li, all[there].nextSibling);
    save(li);
  }

  // Keyboard: Alt+↑/↓ on the handle (plain ↑/↓ too: the handle does nothing else).
  list.addEventListener("keydown", (event) => {
    const handle = event.target.closest(".handle");
    if (!handle) return;
    const li = handle.closest("li.entry");
    const offsets = { ArrowUp: -1, ArrowDown: 1, Home: -10000, End: 10000 };
    if (!(event.key in offsets)) return;
    event.preventDefault();
    move(li, offsets[event.key]);
    handle.focus();
  });

  // The ↑ ↓ buttons: the same move without reloading the page.
  for (const form of list.querySelectorAll("form.move-form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const li = form.closest("li.entry");
      move(li, form.elements.direction.value === "up" ? -1 : 1);
      form.querySelector("button").focus();
    });
  }

  // Drag and drop.
  let dragged = null;
  list.addEventListener("dragstart", (event) => {
    const li = event.target.closest("li.entry");
    if (!li) return;
    dragged = li;
    li.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", li.dataset.entry);
  });
  list.addEventListener("dragover", (event) => {
    if (!dragged) return;
    const over = event.target.closest("li.entry");
    event.preventDefault();
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });
  list.addEventListener("drop", (event) => {
    event.preventDefault();
  });
  list.addEventListener("dragend", () => {
    if (!dragged) return;
    const li = dragged;
    dragged = null;
    li.classList.remove("dragging");
    const order = items().map((item) => item.dataset.entry).join(",");
    if (order !== list.dataset.saved) save(li);
  });
  list.dataset.saved = items().map((item) => item.dataset.entry).join(",");
})();
