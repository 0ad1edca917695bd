// Activity filters: a brand or campaign picked applies at once (the Filter button stays for no-JS use),
// "Use this device's zone" fills the zone from the browser, and on a phone the filters start folded.
(function () {
  "use strict";
  var form = document.querySelector("form.activity-filters");
  if (!form) return;

  form.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.name === "brand") {
        var campaign = form.querySelector("select[name=campaign]");
        if (campaign) campaign.value = "";
      }
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  });

  var here = form.querySelector("[data-zone-here]");
  var zoneInput = form.querySelector("input[name=tz]");
  var deviceZone = "";
  try {
    deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    deviceZone = "";
  }
  if (here && zoneInput && deviceZone && deviceZone !== zoneInput.value) {
    here.textContent = "Use this device's zone (" + deviceZone + ")";
    here.hidden = false;
    here.addEventListener("click", function () {
      zoneInput.value = deviceZone;
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  }

  var box = form.closest("details.filters-box");
  if (box && window.matchMedia("(max-width: 640px)").matches && !form.querySelector(".field-error")) {
    box.open = false;
  }
})();
