// The sample-size planner on /studies (templates/studies/_planner.html) follows the study
// form: items per reader and real fraction are copied as the coordinator types, and the
// number of readers chosen (two or more) becomes the planned readers; each copy fires the
// planner form's own htmx trigger, so its figures update.
(function () {
  "use strict";
  function follow() {
    var planner = document.getElementById("plan-form");
    var study = document.querySelector("form.study-form[action='/studies']");
    if (!planner || !study) return;
    function copy(from, to, value) {
      var target = planner.querySelector("[name='" + to + "']");
      if (!target || target.value === value) return;
      target.value = value;
      target.dispatchEvent(new Event("input", { bubbles: true }));
    }
    study.addEventListener("input", function (event) {
      var name = event.target && event.target.name;
      if (name === "items_per_reader" || name === "real_fraction") {
        copy(name, name === "items_per_reader" ? "items" : "real_fraction", event.target.value);
      }
    });
    study.addEventListener("change", function (event) {
      if (event.target && event.target.name === "readers") {
        var chosen = event.target.selectedOptions.length;
        if (chosen >= 2) copy("readers", "readers", String(chosen));
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", follow);
  } else {
    follow();
  }
})();
