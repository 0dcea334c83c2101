// A destructive step asks again in a page dialog (not the browser's confirm box): a form or submit button with
// data-ask="question" (and data-ask-yes / data-ask-no for the two buttons) opens it; only "yes" submits.
(function () {
  "use strict";
  var dialog = null, pending = null;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "ask-dialog";
    dialog.setAttribute("aria-labelledby", "ask-question");
    dialog.innerHTML = '<p id="ask-question" class="ask-question"></p><p class="ask-detail" id="ask-detail"></p>' +
      '<div class="ask-buttons"><button type="button" class="button" id="ask-no"></button>' +
      '<button type="button" class="button danger" id="ask-yes"></button></div>';
    document.body.appendChild(dialog);
    dialog.querySelector("#ask-no").addEventListener("click", function () { pending = null; dialog.close(); });
    dialog.querySelector("#ask-yes").addEventListener("click", function () {
      var go = pending;
      pending = null;
      dialog.close();
      if (!go) return;
      go.form.setAttribute("data-asked", "1");
      if (go.form.requestSubmit) go.form.requestSubmit(go.submitter || undefined);
      else go.form.submit();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || null;
    var source = submitter && submitter.hasAttribute("data-ask") ? submitter : form;
    var question = source.getAttribute && source.getAttribute("data-ask");
    if (!question) return;
    if (form.getAttribute("data-asked") === "1") { form.removeAttribute("data-asked"); return; }
    if (typeof HTMLDialogElement !== "function") { if (!window.confirm(question)) event.preventDefault(); return; }
    event.preventDefault();
    if (!dialog) build();
    var count = form.querySelectorAll("input[type=checkbox][data-pick]:checked").length;
    var detail = source.getAttribute("data-ask-count");
    dialog.querySelector("#ask-question").textContent = question;
    dialog.querySelector("#ask-detail").textContent = detail && count ? detail.split("%(n)s").join(count) : "";
    dialog.querySelector("#ask-yes").textContent = source.getAttribute("data-ask-yes") || question;
    dialog.querySelector("#ask-no").textContent = source.getAttribute("data-ask-no") || "×";
    pending = { form: form, submitter: submitter };
    dialog.showModal();
    dialog.querySelector("#ask-no").focus();
  }, true);
})();
