// A classic script, loaded before the forms: no console form ever submits natively (a GET
// would put what was typed, a password or a patient's reference, in the address and the
// history). Until the page's module says it is ready (body[data-ready], app.js) a submit is
// held and she is told to try again; after, a submit no page handled is cancelled too.
(function () {
  var wait = document.currentScript.getAttribute('data-wait');
  window.addEventListener('submit', function (e) {
    if (document.body.hasAttribute('data-ready')) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    var box = document.getElementById('status');
    if (box) { box.textContent = wait; box.setAttribute('data-kind', 'info'); }
  }, true);
  window.addEventListener('submit', function (e) { e.preventDefault(); });
})();
