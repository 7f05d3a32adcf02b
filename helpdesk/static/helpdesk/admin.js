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

    // Picking a canned reply puts its text (rendered for this ticket) in the box to edit;
    // without JavaScript the server renders it when the box is left empty.
    document.querySelectorAll('select[data-hd-canned]').forEach(function (select) {
      var box = document.getElementById('id_reply_text');
      select.addEventListener('change', function () {
        var option = select.options[select.selectedIndex];
        if (box && option && option.dataset.text !== undefined) { box.value = option.dataset.text; box.focus(); }
        var reply = document.querySelector('input[name=reply_type][value=reply]');
        if (reply && select.value) { reply.checked = true; reply.dispatchEvent(new Event('change')); }
      });
    });

    var mergeAction = document.querySelector('#changelist-form select[name=action]');
    var merge = document.querySelector('#changelist-form input[name=merge_target]');
    if (mergeAction && merge) {
      var mergeLabel = merge.closest('label') || merge;
      var toggleMerge = function () { mergeLabel.style.display = mergeAction.value === 'merge_into' ? '' : 'none'; };
      mergeAction.addEventListener('change', toggleMerge);
      toggleMerge();
    }

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
