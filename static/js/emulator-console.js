// The console redraws its calls every second (console.html). A redraw would wipe keys typed into a
// call's keys field before Send, so redraws are skipped while any such field holds keys; the
// Send (a POST) redraws as usual.
(function () {
  "use strict";
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var state = document.getElementById("emu-state");
    if (!state || event.detail.target !== state || event.detail.requestConfig.verb !== "get") return;
    var typing = Array.prototype.some.call(state.querySelectorAll(".emu-keys input"), function (input) {
      return input.value !== "";
    });
    if (typing) event.detail.shouldSwap = false;
  });
})();
