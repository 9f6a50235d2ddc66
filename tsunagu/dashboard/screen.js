// Run once per page load by app.py (st.html, in a container screen.css hides). Streamlit 1.67
// names some controls in English with no setting for it; screen.css draws Japanese words over
// the English ones, but screen readers (and axe) take a control's name from its attributes,
// so the names are given here too. Watched for, since Streamlit draws these only when needed.
if (!window.tsunaguNames) {
  window.tsunaguNames = () => {
    // the upload box: its button ("Upload", "Add files") and the chosen file's remove button
    document.querySelectorAll('[data-testid="stFileUploaderDropzone"] button').forEach((b) => {
      const name = b.getAttribute("aria-label");
      if (!name || name === "Add files") b.setAttribute("aria-label", "ファイルを選ぶ");
      else if (name.startsWith("Remove ")) b.setAttribute("aria-label", name.slice(7) + " を取り消す");
    });
    // a drop-down list that matches nothing ("No results")
    document.querySelectorAll('[role="listbox"][data-empty="true"] [role="option"]:not([aria-label])')
      .forEach((o) => o.setAttribute("aria-label", "該当するものはありません"));
  };
  new MutationObserver(window.tsunaguNames).observe(document.body, {childList: true, subtree: true});
}
window.tsunaguNames();
// 作戦会議モード: the wall's bar of controls shows while the pointer moves and hides again
// (screen.css); a presenter's clicker (PageDown / PageUp) steps like → and ←.
if (!window.tsunaguWall) {
  window.tsunaguWall = true;
  let asleep = null;
  const wake = () => {
    document.body.classList.add("wall-awake");
    clearTimeout(asleep);
    asleep = setTimeout(() => document.body.classList.remove("wall-awake"), 2500);
  };
  ["mousemove", "pointerdown", "touchstart"].forEach((t) => document.addEventListener(t, wake, {passive: true}));
  document.addEventListener("keydown", (e) => {
    const key = {PageDown: "present_next", PageUp: "present_prev"}[e.key];
    const button = key && document.querySelector(`.st-key-${key} button`);
    if (button) {
      e.preventDefault();
      button.click();
    }
  });
}
