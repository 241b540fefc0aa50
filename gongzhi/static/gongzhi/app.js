// Small progressive enhancements; every page works without them. No inline scripts (CSP: script-src 'self').
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector("[data-toggle-nav]");
  const nav = document.getElementById("mainnav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  const tabs = document.querySelectorAll("[data-tab]");
  tabs.forEach((tab) => {
    tab.addEventListener("click", (ev) => {
      ev.preventDefault();
      tabs.forEach((t) => {
        const selected = t === tab;
        t.setAttribute("aria-selected", String(selected));
        const panel = document.getElementById(t.getAttribute("aria-controls"));
        if (panel) panel.hidden = !selected;
      });
      const panel = document.getElementById(tab.getAttribute("aria-controls"));
      const first = panel && panel.querySelector("input:not([type=hidden])");
      if (first) first.focus();
    });
  });
  // A copy button saves selecting a long token by hand; shown only where the clipboard API works.
  document.querySelectorAll("[data-copy]").forEach((btn) => {
    const source = document.getElementById(btn.dataset.copy);
    if (!source || !navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener("click", () => {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => { btn.textContent = btn.dataset.copied || "已复制"; });
    });
  });
  if (location.hash === "#resident") {
    const t = document.getElementById("tab-resident");
    if (t) t.click();
  }
});
