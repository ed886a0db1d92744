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
