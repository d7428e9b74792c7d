// Taste controls: "Not for me" (and its undo), discover vs familiar, export and import.
// Uses api() and el() from app.js (loaded first).
"use strict";

async function markNotForMe(button) {
  const artistId = Number(button.dataset.notForMe);
  const card = button.closest("li.card");
  const undoing = button.dataset.state === "marked";
  button.disabled = true;
  try {
    await api(undoing ? "DELETE" : "PUT", `/api/v1/me/dislikes/${artistId}`);
    if (card && card.closest("#my-dislikes") && undoing) {
      card.remove();
      const list = document.getElementById("my-dislikes");
      if (list && !list.querySelector("li.card")) list.append(el("li", { class: "hint empty", text: "None." }));
      return;
    }
    button.dataset.state = undoing ? "" : "marked";
    button.textContent = undoing ? "Not for me" : "Undo";
    button.setAttribute("aria-label", undoing ? `${button.dataset.artistName} is not for me` : `Undo: ${button.dataset.artistName} is for me after all`);
    if (card) card.classList.toggle("dismissed", !undoing);
    const status = document.getElementById("taste-status");
    if (status) status.textContent = undoing ? `${button.dataset.artistName} may be recommended again.` : `${button.dataset.artistName} will not be recommended to you again.`;
  } catch (error) {
    alert(error.message);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-not-for-me]");
  if (button) markNotForMe(button);
});

function setUpDiscovery() {
  const slider = document.getElementById("discovery");
  if (!slider) return;
  const status = document.getElementById("discovery-status");
  const describe = (value) => value < 0.15 ? "familiar" : value < 0.4 ? "mostly familiar" : value < 0.65 ? "a mix" : value < 0.9 ? "mostly discoveries" : "discoveries";
  slider.addEventListener("input", () => { slider.setAttribute("aria-valuetext", describe(Number(slider.value))); });
  // Saves go one after another (a quick series of key presses must not land out of order),
  // and only the value the slider rests on is sent.
  let timer = null;
  let saving = Promise.resolve();
  const save = async () => {
    try {
      const data = await api("PUT", "/api/v1/me/settings", { discovery: Number(slider.value) });
      const value = data.settings.discovery;
      status.textContent = `Saved: ${describe(value)} (${Math.round(value * 100)}%). It applies to your next recommendations.`;
    } catch (error) {
      status.textContent = error.message;
    }
  };
  slider.addEventListener("change", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { saving = saving.then(save); }, 250);
  });
}

function setUpImport() {
  const form = document.getElementById("import-form");
  if (!form) return;
  const status = document.getElementById("import-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return;
    const isCsv = file.name.toLowerCase().endsWith(".csv") || file.type === "text/csv";
    status.textContent = "Importing…";
    try {
      const response = await fetch("/api/v1/me/import", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": isCsv ? "text/csv" : "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
        body: await file.text(),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        const where = data?.error?.field ? `${data.error.field}: ` : "";
        status.textContent = `Nothing imported. ${where}${data?.error?.message || `Request failed (${response.status})`}`;
        return;
      }
      status.textContent = `Imported ${data.ratings} ratings and ${data.dislikes} "not for me" artists.`;
      form.reset();
    } catch (error) {
      status.textContent = error.message;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpDiscovery();
  setUpImport();
});
