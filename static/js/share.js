// The share block's "Copy" button (templates/statements/_share.html). Without script the address
// is a read-only field to select and copy by hand, and the button stays hidden.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-for]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-for"));
    if (!field || !navigator.clipboard) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = button.getAttribute("data-copied");
        setTimeout(function () { button.textContent = label; }, 2000);
      }, function () { field.focus(); });
    });
  });
  document.querySelectorAll("input[data-copy]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
}());
