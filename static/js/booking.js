// The participant's booking page: use the device's time zone and clock when the participant
// has not chosen them (progressive enhancement; without this the page shows the study's zone
// and a 24-hour clock, and a link lets them change both).
(() => {
  const page = document.querySelector("[data-booking]");
  if (!page) return;
  const url = new URL(window.location.href);
  if (url.searchParams.has("detected")) return; // once only, never a loop
  let changed = false;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    zone = "";
  }
  if (page.dataset.zoneSource === "study" && zone && zone !== page.dataset.zone) {
    url.searchParams.set("zone", zone);
    changed = true;
  }
  if (page.dataset.clockSource === "default") {
    let hour12 = false;
    try {
      hour12 = Boolean(new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions().hour12);
    } catch (error) {
      hour12 = false;
    }
    if (hour12 && page.dataset.clock !== "12") {
      url.searchParams.set("clock", "12");
      changed = true;
    }
  }
  if (changed) {
    url.searchParams.set("detected", "1");
    window.location.replace(url.toString());
  }
})();
