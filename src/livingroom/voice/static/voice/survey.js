/* Survey skip logic: a question with data-show-if-position / data-show-if-choice is shown only
   while the question at that position (itself shown) has that choice ticked. A hidden question's
   inputs are disabled, so they are not sent; the server ignores answers to hidden questions anyway,
   and without this script every question is shown with its "only if" hint. */
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form) {
    return;
  }
  var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-position]"));
  var byPosition = {};
  blocks.forEach(function (block) {
    byPosition[block.getAttribute("data-position")] = block;
  });

  function hasChoice(block, key) {
    if (!block || block.hidden) {
      return false;
    }
    var inputs = block.querySelectorAll("input[type=radio], input[type=checkbox]");
    for (var i = 0; i < inputs.length; i += 1) {
      if (inputs[i].checked && inputs[i].value === key) {
        return true;
      }
    }
    return false;
  }

  function update() {
    // In page order: a condition names an earlier question, already decided.
    blocks.forEach(function (block) {
      var position = block.getAttribute("data-show-if-position");
      if (!position) {
        return;
      }
      var shown = hasChoice(byPosition[position], block.getAttribute("data-show-if-choice"));
      block.hidden = !shown;
      Array.prototype.forEach.call(block.querySelectorAll("input, textarea, select"), function (field) {
        field.disabled = !shown;
      });
    });
  }

  form.addEventListener("change", update);
  update();
})();
