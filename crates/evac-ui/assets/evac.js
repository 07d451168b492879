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
  // Party lines: show the filled ones and one empty line; a button reveals more, and past the
  // lines the page came with adds new ones (a teacher with a school group), up to the party's
  // limit (the fieldset's data-party-max). A new line's inputs are numbered like the server's.
  const rows = () => Array.from(document.querySelectorAll("[data-person]"));
  if (rows().length > 1) {
    const partyMax = Number(rows()[0].closest("[data-party-max]")?.dataset.partyMax || rows().length);
    const filled = (p) => Array.from(p.querySelectorAll("input")).some((i) => i.value.trim() !== "");
    let shown = Math.max(1, rows().filter(filled).length + 1);
    const more = document.createElement("button");
    more.type = "button";
    more.className = "secondary";
    more.textContent = "+";
    const update = () => {
      rows().forEach((p, i) => { p.hidden = i >= shown; });
      more.hidden = shown >= partyMax;
    };
    more.addEventListener("click", () => {
      shown += 1;
      const all = rows();
      if (shown > all.length && all.length < partyMax) {
        const line = all.length;
        const copy = all[all.length - 1].cloneNode(true);
        copy.querySelectorAll("input").forEach((i) => {
          i.value = "";
          i.removeAttribute("aria-invalid");
          i.removeAttribute("aria-describedby");
          i.removeAttribute("autofocus");
          i.id = `f-${i.name}-${line}`;
        });
        copy.querySelectorAll("select").forEach((s) => { s.selectedIndex = 0; });
        copy.querySelectorAll(".field-error").forEach((e) => e.remove());
        more.before(copy);
      }
      update();
    });
    rows()[rows().length - 1].after(more);
    update();
  }
  // Check-in: scan the pass's QR code with the phone's camera where the browser can read
  // QR codes (BarcodeDetector); the code lands in the field and the form is sent as the
  // button pressed says. Elsewhere a hand scanner or typing fills the same field.
  const scan = document.querySelector("[data-camera-scan]");
  if (scan && "BarcodeDetector" in window && navigator.mediaDevices) {
    scan.hidden = false;
    scan.addEventListener("click", async () => {
      const form = scan.closest("form");
      const video = document.createElement("video");
      video.setAttribute("playsinline", "");
      video.className = "camera";
      scan.after(video);
      scan.disabled = true;
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        video.srcObject = stream;
        await video.play();
        const detector = new BarcodeDetector({ formats: ["qr_code"] });
        const look = async () => {
          const found = await detector.detect(video).catch(() => []);
          if (found.length > 0) {
            stream.getTracks().forEach((t) => t.stop());
            form.elements.token.value = found[0].rawValue;
            form.requestSubmit(form.querySelector("#check-in"));
            return;
          }
          setTimeout(look, 250);
        };
        look();
      } catch (e) {
        video.remove();
        scan.disabled = false;
      }
    });
  }
  // Times are shown in the desk's zone with its offset ("2022-01-06 14:30 +06"); each
  // becomes a <time> whose title gives it in UTC, for whoever compares with UTC sources.
  const localTime = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) ([+-])(\d{2})(?::(\d{2}))?(?![\d:])/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.parentElement?.closest("script, style, textarea, time, option")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const texts = [];
  while (walker.nextNode()) {
    localTime.lastIndex = 0;
    if (localTime.test(walker.currentNode.nodeValue)) texts.push(walker.currentNode);
  }
  for (const node of texts) {
    const text = node.nodeValue;
    const parts = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(localTime)) {
      const [all, day, hm, sign, hh, mm] = m;
      const at = new Date(`${day}T${hm}:00${sign}${hh}:${mm || "00"}`);
      if (Number.isNaN(at.getTime())) continue;
      parts.append(text.slice(last, m.index));
      const time = document.createElement("time");
      time.dateTime = at.toISOString();
      time.title = at.toISOString().slice(0, 16).replace("T", " ") + " UTC";
      time.textContent = all;
      parts.append(time);
      last = m.index + all.length;
    }
    parts.append(text.slice(last));
    node.replaceWith(parts);
  }
});
