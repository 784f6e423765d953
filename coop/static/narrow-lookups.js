// Look-ups narrowed to another field's choice (coop/views/loading.py, ajax_lookups
// with narrow_by): an ajax picker marked data-narrow-by="school" sends the form's
// chosen school with its search (?school=ID), and is emptied when the school
// changes, so it never offers or keeps another school's programme or event.
(function ($) {
  "use strict";
  if (!$) { return; }

  function narrowed() {
    return $("[data-role='select2-ajax'][data-narrow-by]");
  }

  $.ajaxPrefilter(function (options) {
    narrowed().each(function () {
      var url = this.getAttribute("data-url");
      if (!url || options.url.indexOf(url) !== 0) { return; }
      var by = this.getAttribute("data-narrow-by");
      var chosen = $(this.form).find("[name='" + by + "']").val();
      if (chosen && chosen !== "__None") {
        var param = encodeURIComponent(by) + "=" + encodeURIComponent(chosen);
        if (typeof options.data === "string" && options.data) {
          options.data += "&" + param;
        } else {
          options.url += (options.url.indexOf("?") < 0 ? "?" : "&") + param;
        }
      }
    });
  });

  $(function () {
    narrowed().each(function () {
      var picker = $(this);
      var by = picker.attr("data-narrow-by");
      $(this.form).find("[name='" + by + "']").on("change", function () {
        if (picker.val()) { picker.select2("val", ""); }
      });
    });
  });
})(window.jQuery);
