// Small progressive enhancements; every page works without them.
document.documentElement.classList.add("js-enabled");
document.addEventListener("DOMContentLoaded", () => {
  // The error summary takes focus so screen-reader users hear what went wrong.
  const summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();
  // A select that submits its form when changed (the study switcher).
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Buttons that ask before doing something that cannot be undone.
  document.querySelectorAll("[data-confirm]").forEach((element) => {
    element.addEventListener("click", (event) => {
      if (!window.confirm(element.dataset.confirm)) event.preventDefault();
    });
  });
});
document.addEventListener("DOMContentLoaded", () => {
  // A select that asks the server again through a named button (the booking form's
  // "Show free times" when the interviewer changes); without script the button is there.
  document.querySelectorAll("select[data-reload-with]").forEach((select) => {
    select.addEventListener("change", () => {
      const button = document.getElementById(select.dataset.reloadWith);
      if (button) button.click();
    });
  });
  // Fields that belong to one way of holding an interview show only for that mode.
  const groups = document.querySelectorAll("[data-mode-group]");
  const modes = document.querySelectorAll("input[type=radio][name=mode]");
  const showMode = () => {
    const checked = document.querySelector("input[type=radio][name=mode]:checked");
    if (!checked) return;
    groups.forEach((group) => {
      group.hidden = group.dataset.modeGroup !== checked.value;
    });
  };
  modes.forEach((radio) => radio.addEventListener("change", showMode));
  showMode();
});
document.addEventListener("DOMContentLoaded", () => {
  // "Select all on this page" for a list's checkboxes (hidden without script).
  document.querySelectorAll("input[data-select-all]").forEach((all) => {
    const boxes = () => all.form
      ? all.form.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`)
      : [];
    all.hidden = false;
    all.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = all.checked; });
    });
  });
});
