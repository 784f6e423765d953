"""Relation selects whose options are (id, label) rows, not ORM objects.

Flask-Admin's QuerySelectField builds an ORM object for every option (a thousand schools
on an event's form: most of the form's time). These fields take their options as
(id, label) rows (the base view fills them from one statement, loading.load_choices) and
load an ORM row only for what is chosen: on a GET the row's own relation, already loaded
with it; on a POST the chosen ids, in one statement. A posted id not among the options
(a row the user may not see, or none) is «Not a valid choice», from Coop's own catalog
(the field's self.gettext is WTForms' and answered in English).

ListOrLookupField is a select while the user sees few rows of its table (a school user
its own school, a partner the schools it has agreements with) and an ajax look-up when
more (the coordinator's region): the base view reads at most one more row than it lists,
and the look-up asks the view's loader, which the policy scopes.
"""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_admin.form import Select2Widget
from flask_admin.model.widgets import AjaxSelect2Widget
from flask_babel import gettext
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms.validators import ValidationError

from ..extensions import db
from ..lookup import parse_id

Rows = list[tuple[int, str]]


class RowSelectWidget(Select2Widget):
    """Flask-Admin's select2 select, its options written without a call per attribute."""

    @classmethod
    def render_option(cls, value: Any, label: Any, selected: bool, **kwargs: Any) -> Markup:
        if kwargs:
            return super().render_option(value, label, selected, **kwargs)
        chosen = " selected" if selected else ""
        return Markup(f'<option value="{escape(value)}"{chosen}>{escape(label)}</option>')


class RowSelectField(QuerySelectField):
    """One related row, picked among rows (id, label). Without rows (a form made outside
    the base view) it is Flask-Admin's QuerySelectField."""

    widget = RowSelectWidget()

    def __init__(self, *args: Any, model: type[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        self.rows: Rows | None = None
        self._invalid = False

    def _get_data(self) -> Any:
        if self.rows is None or self._formdata is None:
            return super()._get_data()
        row_id = parse_id(self._formdata)
        if row_id is None or row_id not in {option for option, _label in self.rows}:
            self._invalid = True
            self._set_data(None)
        else:
            self._set_data(db.session.get(self.model, row_id))
        return self._data

    data = property(_get_data, QuerySelectField._set_data)

    def iter_choices(self) -> Any:
        if self.rows is None:
            yield from super().iter_choices()
            return
        chosen = getattr(self.data, "id", None)
        if self.allow_blank:
            yield ("__None", self.blank_text, chosen is None, {})
        for row_id, label in self.rows:
            yield (str(row_id), label, row_id == chosen, {})

    def pre_validate(self, form: Any) -> None:
        if self.rows is None:
            return super().pre_validate(form)
        data = self.data
        if self._invalid or (data is None and not self.allow_blank):
            raise ValidationError(gettext("Not a valid choice"))
        return None


class RowSelectMultipleField(QuerySelectMultipleField):
    """Several related rows, picked among rows (id, label) (see RowSelectField)."""

    widget = RowSelectWidget(multiple=True)

    def __init__(self, *args: Any, model: type[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        self.rows: Rows | None = None

    def _get_data(self) -> Any:
        if self.rows is None or self._formdata is None:
            return super()._get_data()
        known = {str(row_id): row_id for row_id, _label in self.rows}
        wanted = [known[value] for value in self._formdata if value in known]
        self._invalid_formdata = len(wanted) < len(self._formdata)
        found = {}
        if wanted:
            stmt = select(self.model).where(self.model.id.in_(wanted))
            found = {row.id: row for row in db.session.execute(stmt).scalars()}
        self._set_data([found[row_id] for row_id, _label in self.rows if row_id in found])
        return self._data

    data = property(_get_data, QuerySelectMultipleField._set_data)

    def iter_choices(self) -> Any:
        if self.rows is None:
            yield from super().iter_choices()
            return
        chosen = {row.id for row in self.data or ()}
        for row_id, label in self.rows:
            yield (str(row_id), label, row_id in chosen, {})

    def pre_validate(self, form: Any) -> None:
        if self.rows is None:
            return super().pre_validate(form)
        self.data  # noqa: B018 (reads the posted ids)
        if self._invalid_formdata:
            raise ValidationError(gettext("Not a valid choice"))
        return None


class ListOrLookupField(RowSelectField):
    """One related row, from a select of rows (id, label) while they are few, else from an
    ajax look-up (the loader of the view's form_ajax_refs, scoped by the policy): the base
    view calls use_rows() or use_lookup() when it fills the form (SecuredModelView._fill_choices)."""

    def __init__(self, *args: Any, loader: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loader = loader
        self.lookup = False

    def use_lookup(self) -> None:
        """Too many rows to list: a look-up box showing the chosen row only."""
        self.lookup = True
        self.widget = AjaxSelect2Widget()

    def _get_data(self) -> Any:
        if not self.lookup or self._formdata is None:
            return super()._get_data()
        posted = self._formdata
        if posted in ("", "__None"):  # the look-up's box emptied: no row
            self._invalid = not self.allow_blank
            self._set_data(None)
            return self._data
        row_id = parse_id(posted)
        # The loader reads through the policy: an id the user may not see is no row.
        row = self.loader.get_one(row_id) if row_id is not None else None
        self._invalid = row is None
        self._set_data(row)
        return self._data

    data = property(_get_data, QuerySelectField._set_data)

    def pre_validate(self, form: Any) -> None:
        if not self.lookup:
            return super().pre_validate(form)
        data = self.data
        if self._invalid or (data is None and not self.allow_blank):
            raise ValidationError(gettext("Not a valid choice"))
        return None
