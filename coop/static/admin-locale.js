// Flask-Admin's date picker (bootstrap-daterangepicker on moment.js) and look-ups
// (select2 3.5) speak English, start the week on Sunday and write dates as
// 2019-11-21. This file, loaded on every admin page after them
// (coop/templates/coop/master.html), gives them the interface's language, its first
// weekday and the site's дд.мм.гггг, from the page's #coop-locale data-locale
// (coop/formats.py picker_locale: no inline code, as the page's CSP wants).
(function ($, moment) {
  "use strict";

  var source = document.getElementById("coop-locale");
  if (!source || !$) { return; }
  var text = JSON.parse(source.getAttribute("data-locale"));

  if (moment) {
    // The picker reads its month and day names and first weekday from moment's locale.
    moment.locale("coop-" + text.language, {
      months: text.months,
      monthsShort: text.monthsShort,
      weekdaysMin: text.weekdaysMin,
      weekdaysShort: text.weekdaysMin,
      week: { dow: text.firstDay, doy: 4 }
    });
  }

  // Flask-Admin writes ISO formats into its fields and filters; the site reads and shows
  // дд.мм.гггг (coop/views/display.py), so the picker writes that.
  var FORMATS = {
    "YYYY-MM-DD": text.dateFormat,
    "YYYY-MM-DD HH:mm:ss": text.momentFormat
  };

  function localise() {
    var picker = $.fn.daterangepicker;
    if (!picker || picker.coopLocalised) { return; }
    $.fn.daterangepicker = function (options, callback) {
      options = $.extend({}, options);
      options.format = FORMATS[options.format] || options.format;
      if (options.separator) { options.separator = " — "; }
      options.locale = $.extend({
        applyLabel: text.apply,
        cancelLabel: text.cancel,
        fromLabel: text.from,
        toLabel: text.to,
        firstDay: text.firstDay
      }, options.locale);
      return picker.call(this, options, callback);
    };
    $.fn.daterangepicker.coopLocalised = true;
  }
  // daterangepicker.js comes with Flask-Admin's form.js, after this file: form.js says
  // when it is there (adminFormReady), before it turns any field into a picker.
  $(document).on("adminFormReady", localise);
  localise();

  if ($.fn.select2) {
    $.extend($.fn.select2.defaults, {
      formatNoMatches: function () { return text.noMatches; },
      formatSearching: function () { return text.searching; },
      formatLoadMore: function () { return text.loadMore; },
      formatAjaxError: function () { return text.ajaxError; },
      formatInputTooShort: function (input, min) {
        return text.inputTooShort.replace("{n}", String(min - input.length));
      }
    });
  }
})(window.jQuery, window.moment);
