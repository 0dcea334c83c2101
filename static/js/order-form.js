// The order form asks for a group's name, address and district only when the order is for a group.
(function () {
  "use strict";
  var group = document.getElementById("group-fields");
  var select = document.getElementById("venue_id");
  if (!group || !select || group.getAttribute("data-shown-for") === "") return;
  function update() { group.hidden = select.value !== group.getAttribute("data-shown-for"); }
  select.addEventListener("change", update);
  update();
})();
