// Filters a volunteer checkbox list as the admin types; checked boxes stay checked when hidden.
(function () {
  "use strict";
  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.querySelectorAll(".picker").forEach(function (picker) {
    var search = picker.querySelector(".picker-search");
    if (!search) return;
    function filter() {
      var wanted = normalise(search.value.trim());
      picker.querySelectorAll(".picker-option").forEach(function (option) {
        option.hidden = wanted !== "" && normalise(option.textContent).indexOf(wanted) === -1;
      });
    }
    search.addEventListener("input", filter);
    filter(); // a value typed before this script ran, or restored by the browser
    // Enter in the search box must not submit the whole form.
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
  });
})();
