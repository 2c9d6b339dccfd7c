// The sample-size planner on /studies (templates/studies/_planner.html) follows the study
// form: items per reader and real fraction are copied as the coordinator types, and the
// number of readers ticked (two or more) becomes the planned readers; each copy fires the
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
      var name = event.target && event.target.name;
      if (name === "readers" || name === "unblinded") {  // the ticked readers, unblinded too
        var chosen = new Set();
        study.querySelectorAll("input[name=readers]:checked, input[name=unblinded]:checked")
          .forEach(function (box) { chosen.add(box.value); });
        if (chosen.size >= 2) copy("readers", "readers", String(chosen.size));
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", follow);
  } else {
    follow();
  }
})();
