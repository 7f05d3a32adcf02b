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
        var checked = form.querySelector('input[name=reply_type]:checked, input[name=type]:checked');
        var note = checked && checked.value === 'note';
        form.classList.toggle('hd-is-note', note);
        button.textContent = note ? button.dataset.labelNote : button.dataset.labelReply;
        textarea.placeholder = note ? textarea.dataset.placeholderNote : textarea.dataset.placeholderReply;
      };
      form.querySelectorAll('input[name=reply_type], input[name=type]').forEach(function (r) { r.addEventListener('change', sync); });
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

    // Django's select2 pickers get their label as their accessible name (select2 names
    // a combobox after its current value, so an empty one had none).
    var nameSelect2 = function () {
      document.querySelectorAll('select.admin-autocomplete').forEach(function (select) {
        var container = select.nextElementSibling;
        if (!container || !container.classList.contains('select2')) { return; }
        var label = select.id && document.querySelector('label[for="' + select.id + '"]');
        var text = label ? label.textContent.replace(/:\s*$/, '').trim() : '';
        if (!text) {
          var details = select.closest('details[data-filter-title]');
          text = details ? details.dataset.filterTitle : (select.name || '');
        }
        var selection = container.querySelector('.select2-selection');
        if (!selection) { return; }
        var rendered = container.querySelector('.select2-selection__rendered[id]');
        if (label) {
          label.id = label.id || 'hd-label-' + select.id;
          selection.setAttribute('aria-labelledby', label.id + (rendered ? ' ' + rendered.id : ''));
        } else {
          selection.removeAttribute('aria-labelledby');
          selection.setAttribute('aria-label', text);
        }
        var fix = function () {
          // The current value is read through the combobox's name; as a bare "textbox" of
          // its own it had no name when empty.
          container.querySelectorAll('.select2-selection__rendered[role=textbox]').forEach(
            function (el) { el.setAttribute('role', 'none'); el.removeAttribute('aria-readonly'); });
          // A multiple picker's chips sit in a <ul> beside its search box: not a list to read.
          container.querySelectorAll('.select2-selection--multiple ul, .select2-selection--multiple li').forEach(
            function (el) { el.setAttribute('role', 'none'); });
          container.querySelectorAll('.select2-search__field').forEach(function (field) { field.setAttribute('aria-label', text); });
        };
        fix();
        if (window.MutationObserver && !container.dataset.hdObserved) {
          container.dataset.hdObserved = '1';
          new MutationObserver(fix).observe(container, {childList: true, subtree: true});
        }
      });
    };
    nameSelect2();
    setTimeout(nameSelect2, 0);
    if ($) { $(document).on('select2:select select2:unselect', nameSelect2); }

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
