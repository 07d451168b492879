// evac's only script: it enhances, nothing depends on it (every form works without it).
// Loaded from /assets/evac.js under a Content Security Policy that forbids inline script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Use my location": fills the hidden coordinates of the request form.
  const locate = document.querySelector("[data-geolocate]");
  if (locate && "geolocation" in navigator) {
    locate.hidden = false;
    locate.addEventListener("click", () => {
      locate.disabled = true;
      navigator.geolocation.getCurrentPosition(
        (pos) => {
          const form = locate.closest("form");
          form.elements.lat.value = pos.coords.latitude.toFixed(5);
          form.elements.lon.value = pos.coords.longitude.toFixed(5);
          locate.textContent = "✓ " + locate.textContent;
        },
        () => { locate.disabled = false; },
        { enableHighAccuracy: false, timeout: 10000 }
      );
    });
  }
  // Party lines: show the filled ones and one empty line; a button reveals more.
  const people = Array.from(document.querySelectorAll("[data-person]"));
  if (people.length > 1) {
    const filled = (p) => Array.from(p.querySelectorAll("input")).some((i) => i.value.trim() !== "");
    let shown = Math.max(1, people.filter(filled).length + 1);
    const more = document.createElement("button");
    more.type = "button";
    more.className = "secondary";
    more.textContent = "+";
    const update = () => {
      people.forEach((p, i) => { p.hidden = i >= shown; });
      more.hidden = shown >= people.length;
    };
    more.addEventListener("click", () => { shown += 1; update(); });
    people[people.length - 1].after(more);
    update();
  }
});
