"""The site-wide search: one box in the menu bar (coop/master.html), a page of the rows
found, grouped by kind, each linking to its details page. What matches and what the
user may see is coop/search.py's (site_wide), under the policy."""

from __future__ import annotations

from flask import request
from flask_admin import expose
from flask_babel import gettext
from flask_login import current_user

from .. import search
from .base import SecuredView


class SiteSearchView(SecuredView):
    permission = "search.view"

    def is_visible(self) -> bool:  # the box in the menu bar leads here
        return False

    @expose("/")
    def index(self) -> str:
        text = " ".join(request.args.get("q", "").split())
        groups: list[search.Group] = []
        message = None
        if not text:
            message = gettext("Type a word or a few words to search for.")
        elif len(text) > search.MAX_QUERY_LENGTH or len(text.split()) > search.MAX_WORDS:
            message = gettext(
                "The query is too long: at most %(words)d words and %(chars)d characters.",
                words=search.MAX_WORDS,
                chars=search.MAX_QUERY_LENGTH,
            )
        else:
            groups = search.site_wide(current_user, text)
            if not groups:
                message = gettext("Nothing found for «%(query)s».", query=text)
        return self.render("coop/search.html", q=text, groups=groups, message=message)
