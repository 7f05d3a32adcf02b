/* The helpdesk admin's small behaviours, each optional (every form works without it):
   autocomplete list filters submit on pick; the reply form shows whether it writes a
   reply or an internal note; the action bar shows the tag box only for "Add a tag". */
'use strict';
(function () {
  function ready(fn) {
    if (document.readyState !== 'loading') { fn(); } else { document.addEventListener('DOMContentLoaded', fn); }
  }

  ready(function () {
    // select2 fires jQuery events, not DOM ones: listen through Django's jQuery.
    var $ = window.django && window.django.jQuery;
    document.querySelectorAll('form[data-hd-autosubmit]').forEach(function (form) {
      var submit = function () { form.submit(); };
      if ($) { $(form).find('select').on('change', submit); } else {
        form.querySelectorAll('select').forEach(function (s) { s.addEventListener('change', submit); });
      }
    });

    document.querySelectorAll('[data-hd-reply-form]').forEach(function (form) {
      var button = form.querySelector('button[type=submit]');
      var textarea = form.querySelector('textarea');
      var sync = function () {
        var checked = form.querySelector('input[name=reply_type]:checked');
        var note = checked && checked.value === 'note';
        form.classList.toggle('hd-is-note', note);
        button.textContent = note ? button.dataset.labelNote : button.dataset.labelReply;
        textarea.placeholder = note ? textarea.dataset.placeholderNote : textarea.dataset.placeholderReply;
      };
      form.querySelectorAll('input[name=reply_type]').forEach(function (r) { r.addEventListener('change', sync); });
      sync();
    });

    var action = document.querySelector('#changelist-form select[name=action]');
    var tag = document.querySelector('#changelist-form input[name=tag]');
    if (action && tag) {
      var label = tag.closest('label') || tag;
      var toggle = function () { label.style.display = action.value === 'add_tag' ? '' : 'none'; };
      action.addEventListener('change', toggle);
      toggle();
    }
  });
})();
