"""The one secured base for every admin view.

Flask-Admin allows everyone by default and reads rows through several doors
(list, count, get_one, ajax look-ups, relation pickers, filter options, actions,
export). Each door is routed through ``coop.access`` here, once, so a view
subclass is only declarations. How rows are read at scale (capped counts, eager
loads, look-ups) is in ``loading.py``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import tablib
from flask import abort, current_app, flash, g, has_request_context, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import rules
from flask_admin.helpers import get_form_data, get_redirect_target
from flask_admin.model.base import FilterGroup
from flask_admin.model.fields import AjaxSelectField, AjaxSelectMultipleField
from flask_admin.model.template import DeleteRowAction, EditRowAction, ViewRowAction
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.utils import secure_filename
from wtforms import HiddenField
from wtforms.validators import ValidationError

from .. import access, added_fields, formats, history, labels, saved_views, search, trash, uploads, workflow
from ..access import AccessDenied
from ..extensions import db
from ..lookup import parse_id
from ..models import History, Tracked, User
from ..plan_io.xlsx_out import safe_cell
from ..request_cache import request_cache

# By name: get_list's argument `search` (Flask-Admin's) hides the module there.
from ..search import in_page as search_in_page
from ..search import page_of as search_page_of
from . import added_filters
from .display import (
    DETAIL_FORMATTERS,
    EXPORT_FORMATTERS,
    TYPE_FORMATTERS,
    AcademicYearField,
    ModelConverter,
)
from .loading import (
    FoldingFilterConverter,
    IdCheckingAjaxLoader,
    LinkedFilter,
    capped_count,
    eager_load,
    load_choices,
    preload_options,
    relationship_of,
)
from .row_fields import ListOrLookupField, RowSelectField, RowSelectMultipleField

# Columns that name the tenant (forced from the user) or that the role cannot
# see, hidden from that user's forms.
OWNER_FIELDS = {access.SCHOOL: ("school",), access.PARTNER: ("partner", "programme")}
# A list page's one delete form (coop/list.html), which each row's delete button submits
# with its row's id; and what stands for the row's id in the buttons made once per page.
LIST_DELETE_FORM = "row-delete-form"
_ROW_ID = "0000ROW0000"
# After a transition on a selection, the rows named one by one up to this many.
OUTCOMES_SHOWN = 10


class SecuredMixin:
    """Access for any admin page: sign-in required, then the named permission."""

    permission: str = ""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and access.can(current_user, self.permission)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class SecuredView(SecuredMixin, BaseView):
    """Base for custom pages (calendar, dashboard, import)."""


class AdminForm(FlaskForm):
    """Flask-WTF's form, whose CSRF token CSRFProtect checks on every POST, plus
    the `_obj` that Flask-Admin's BaseForm keeps for its Unique validator.

    (Flask-Admin's SecureForm keeps a second, incompatible token under the same
    field name, so its forms would fail one check or the other.)
    """

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            # No field keeps a NUL character: PostgreSQL refuses it in text.
            filters = [*unbound_field.kwargs.get("filters", ()), _without_nul]
            return unbound_field.bind(form=form, filters=filters, **options)

    def __init__(self, formdata: Any = None, obj: Any = None, prefix: str = "", **kwargs: Any) -> None:
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


def _state_with_reason(view: Any, context: Any, row: Any, name: str) -> Any:
    """The state in a list, and under it the reason of a noticed one (a return's comment)."""
    label = view.state_label(row)
    reason = view.reason_for(row)
    if reason is None or not reason.comment:
        return label
    comment = reason.comment if len(reason.comment) <= 160 else reason.comment[:159] + "…"
    return Markup('{}<div class="state-reason small text-muted" title="{}">«{}»</div>').format(
        escape(label), reason.comment, comment
    )


def _academic_year(view: Any, context: Any, row: Any, name: str) -> str:
    return formats.academic_year(getattr(row, name))


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


class _ReadableColumns:
    """A column list Flask-Admin computes once at start-up, cut per request to the
    fields the user may read (access.visible_fields: a partner reads schools' names) and,
    for a list and its export, to the columns its URL chooses (a saved view's: saved_views.chosen)."""

    def __init__(self, added: str | None = None, chosen: bool = False) -> None:
        # The added fields put after the columns: those a list shows ("listed", see
        # FieldDefinition.in_list), every one ("all", an export), or none (details: a
        # table of their own, coop/_record.html).
        self.added = added
        self.chosen = chosen

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = f"_all{name}"

    def __get__(self, view: Any, owner: type | None = None) -> Any:
        if view is None:
            return self
        # `extra` itself is never a column: its values are the added fields' own.
        columns = [c for c in view.__dict__.get(self.key, []) if c[0] != "extra"]
        fields = view.readable_fields()
        if self.added and (fields is None or "extra" in fields):
            columns = [*columns, *view.added_columns(listed_only=self.added == "listed")]
        readable = (
            columns if fields is None else [c for c in columns if c[0] in fields or c[0].startswith(PREFIX)]
        )
        shown = saved_views.chosen(readable) if self.chosen else readable
        # The labels translated once here, not once per row: a list's template writes each
        # column's label into every cell (data-label, the phone's card), and each lazy
        # string asked Flask-Babel again (a third of a 100-row page's time).
        return [(name, str(label)) for name, label in shown]

    def __set__(self, view: Any, value: Any) -> None:
        view.__dict__[self.key] = value


class _FormRules:
    """Flask-Admin's form rules, computed once; a form with added fields in groups has
    rules of its own for the request (see SecuredModelView._added_rules)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = f"_all{name}"

    def __get__(self, view: Any, owner: type | None = None) -> Any:
        if view is None:
            return self
        own = g.get("_coop_form_rules", {}).get(view.endpoint) if has_request_context() else None
        return own or view.__dict__.get(self.key)

    def __set__(self, view: Any, value: Any) -> None:
        view.__dict__[self.key] = value


PREFIX = added_fields.PREFIX


class AddedFieldsForm:
    """Mixed into a form that asks for added fields (SecuredModelView._form_class): they are
    written into the record's `extra`, the other fields as Flask-Admin writes them."""

    added: dict[str, Any] = {}  # form field name → FieldDefinition

    def populate_obj(self, obj: Any) -> None:
        form: Any = self
        for name, field in form._fields.items():
            if name not in self.added:
                field.populate_obj(obj, name)
        posted = {definition: form[name].data for name, definition in self.added.items()}
        obj.extra = added_fields.with_values(obj, posted)


def _fits(definition: Any) -> Callable[[Any, Any], None]:
    """A form validator: the value reads as the field's kind (a link, a choice of its list…)."""

    def check(form: Any, field: Any) -> None:
        try:
            added_fields.read(definition, field.data)
        except added_fields.FieldValueError as error:
            raise ValidationError(str(error)) from None

    return check


class SecuredModelView(SecuredMixin, ModelView):
    form_base_class = AdminForm
    can_view_details = True
    can_export = True
    export_types = ["csv", "xlsx"]
    can_set_page_size = True
    page_size = 20
    page_size_options = (20, 50, 100)
    details_modal = False
    edit_modal = False
    create_modal = False
    column_display_pk = False
    list_template = "coop/list.html"
    list_delete_form = LIST_DELETE_FORM
    details_template = "coop/details.html"
    create_template = "coop/create.html"
    edit_template = "coop/edit.html"
    # Dates дд.мм.гггг, moments in the site's time zone, да/нет, in lists, details and
    # exports; forms and filters read dates as they are shown (display.py).
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    column_type_formatters_export = EXPORT_FORMATTERS
    model_form_converter = ModelConverter
    # Text filters («contains») fold case and ё as the search box does (coop/search.py).
    filter_converter = FoldingFilterConverter()

    _list_columns = _ReadableColumns(added="listed", chosen=True)
    _details_columns = _ReadableColumns()
    _export_columns = _ReadableColumns(added="all", chosen=True)
    _form_create_rules = _FormRules()
    _form_edit_rules = _FormRules()

    def __init__(self, model: type, **kwargs: Any) -> None:
        # Labels and choices come from the model's columns (coop/labels.py), for the
        # list, details, filters, forms and export alike. A view's own would win, but
        # none declares any (tests/test_labels.py): a field is worded once, on the model.
        coded = {field: list(choices.items()) for field, choices in labels.choices_of(model).items()}
        own: Any = self  # Flask-Admin declares these class attributes without types
        self.column_labels = {**labels.labels_of(model), **(own.column_labels or {})}
        self.column_choices = {**coded, **(own.column_choices or {})}
        self.form_choices = {**coded, **(own.form_choices or {})}
        # An academic year reads «2019/2020» in lists, details and exports (a formatter: a
        # missing one reads empty), is offered so in filters (the column's choices) and is
        # picked by that label in forms; 2019 is what is kept.
        years = dict.fromkeys(labels.academic_year_fields(model), _academic_year)
        self.column_choices = {**dict.fromkeys(years, formats.academic_year_choices()), **self.column_choices}
        self.form_overrides = {**dict.fromkeys(years, AcademicYearField), **(own.form_overrides or {})}
        formatters = {**years, **(own.column_formatters or {})}
        self.column_formatters = formatters
        for kind in ("column_formatters_detail", "column_formatters_export"):
            if getattr(own, kind) is not None:
                setattr(self, kind, {**years, **getattr(own, kind)})
        flow = workflow.workflow_of(model)
        if flow is not None and flow.noticed and "state" not in formatters:
            # The list says why a row is in a noticed state (see workflow.Workflow.noticed);
            # its details page says it in a box above (coop/_record.html).
            if own.column_formatters_detail is None:
                self.column_formatters_detail = dict(formatters)
            self.column_formatters = {**formatters, "state": _state_with_reason}
        super().__init__(model, db, **kwargs)

    def readable_fields(self) -> tuple[str, ...] | None:
        """The columns of this view's rows the user may read; None: all."""
        if not has_request_context() or not current_user.is_authenticated:
            return None
        return access.visible_fields(current_user, self.model)

    # --- fields added in the site (coop/added_fields.py) ------------------------------

    def added_columns(self, listed_only: bool) -> list[tuple[str, str]]:
        """(name, label) of the added fields a list (listed_only) or an export shows: the
        municipality's and the user's school's own."""
        if added_fields.model_key(self.model) is None or not has_request_context():
            return []
        if not current_user.is_authenticated:
            return []
        definitions = added_fields.of_record(self.model, current_user.school_id)
        return [(PREFIX + d.key, d.label) for d in definitions if d.in_list or not listed_only]

    def added_values(self, row: Any) -> list[tuple[str, list[tuple[Any, str]]]]:
        """A record's added fields and their values as shown, by group (its details page)."""
        fields = self.readable_fields()
        if added_fields.model_key(self.model) is None or (fields is not None and "extra" not in fields):
            return []
        values = dict(added_fields.values_of(row))
        return [(group, [(d, values[d]) for d in items]) for group, items in added_fields.grouped(values)]

    def _added_by_key(self, school_id: int | None) -> dict[str, Any]:
        """The added fields of a record of this view's model at school_id, by key: once per
        request and school (a list asks for each cell of 100 rows)."""
        cache = request_cache("_coop_added_by_key")
        found = cache.get((self.model, school_id))
        if found is None:
            found = {d.key: d for d in added_fields.of_record(self.model, school_id)}
            cache[(self.model, school_id)] = found
        return found

    def _get_field_value(self, model: Any, name: str) -> Any:
        if isinstance(name, str) and name.startswith(PREFIX):
            key = name.removeprefix(PREFIX)
            definition = self._added_by_key(added_fields.record_school(model)).get(key)
            return "" if definition is None else added_fields.shown(definition, (model.extra or {}).get(key))
        return super()._get_field_value(model, name)

    def _form_with_added_fields(self, form_class: Any, obj: Any) -> Any:
        """The form of form_class for obj, with the added fields the user fills in: typed,
        after the core fields, under their groups' headings."""
        school_id = added_fields.record_school(obj) if obj is not None else current_user.school_id
        role = access.role_of(current_user)
        definitions = (
            [d for d in added_fields.of_record(self.model, school_id) if added_fields.filled_by(d, role)]
            if added_fields.model_key(self.model) is not None
            else []
        )
        if not definitions:
            return form_class(get_form_data(), obj=obj)
        added = {PREFIX + d.key: d for d in definitions}
        attrs: dict[str, Any] = {"added": added}
        for name, definition in added.items():
            field = added_fields.form_field(definition)
            field.kwargs["validators"] = [*field.kwargs["validators"], _fits(definition)]
            attrs[name] = field
        form_type = type(form_class.__name__, (AddedFieldsForm, form_class), attrs)
        values = (obj.extra or {}) if obj is not None else {}
        data = {name: added_fields.form_data(d, values.get(d.key)) for name, d in added.items()}
        return form_type(get_form_data(), obj=obj, **data)

    def _added_rules(self, form: Any) -> Any:
        """Rules that put the added fields under their groups' headings (None: no group)."""
        added = getattr(form, "added", {})
        if not any(definition.group for definition in added.values()):
            return form
        core = [
            field.name
            for field in form
            if field.name not in added and getattr(field.widget, "input_type", None) != "hidden"
        ]
        groups = added_fields.grouped(added.values())
        sets = [
            rules.FieldSet([PREFIX + d.key for d in items], header=group or None) for group, items in groups
        ]
        request_cache("_coop_form_rules")[self.endpoint] = rules.RuleSet(self, [*core, *sets])
        # Flask-Admin would warn that the hidden fields (CSRF, version) are in no rule: its
        # form macro writes them before any rule.
        form._validated_ruleset = True
        return form

    @property
    def _search_supported(self) -> bool:
        # Searching a column one may not read would tell its values.
        fields = self.readable_fields()
        searchable = set(self.column_searchable_list or ())
        supported = self.__dict__.get("_all_search_supported", False)
        return supported and (fields is None or searchable <= set(fields))

    @_search_supported.setter
    def _search_supported(self, value: bool) -> None:
        self.__dict__["_all_search_supported"] = value

    @property
    def _filters(self) -> Any:
        # No filters for a reader of some fields only (see _get_filter_groups), and so
        # no "Add filter" button opening an empty menu either. The added fields' filters
        # come after the view's own, per request (their fields change while the site runs).
        if self.readable_fields() is not None:
            return None
        own, added = self.__dict__.get("_all_filters"), self._added_filters()
        return [*(own or ()), *added] if added else own

    @_filters.setter
    def _filters(self, value: Any) -> None:
        self.__dict__["_all_filters"] = value

    def get_filter_arg(self, index: int, flt: Any) -> str:
        """A filter's name in the list's URL: an added field's by its key (added_filters.py),
        any other by its place, as Flask-Admin names it."""
        return getattr(flt, "url_arg", None) or super().get_filter_arg(index, flt)

    @property
    def _filter_args(self) -> Any:
        own = self.__dict__.get("_all_filter_args")
        start = len(self.__dict__.get("_all_filters") or ())
        added = {
            self.get_filter_arg(index, flt): (index, flt)
            for index, flt in enumerate(self._added_filters(), start=start)
        }
        return {**(own or {}), **added} if added else own

    @_filter_args.setter
    def _filter_args(self, value: Any) -> None:
        self.__dict__["_all_filter_args"] = value

    @property
    def _filter_groups(self) -> Any:
        own = self.__dict__.get("_all_filter_groups")
        added = self._added_filters()
        if not added:
            return own
        groups = OrderedDict(own or ())
        start = len(self.__dict__.get("_all_filters") or ())
        for index, flt in enumerate(added, start=start):
            group = groups.setdefault(str(flt.name), FilterGroup(flt.name))
            group.append(
                {
                    "index": index,
                    "arg": self.get_filter_arg(index, flt),
                    "operation": flt.operation(),
                    "options": flt.get_options(self) or None,
                    "type": flt.data_type,
                }
            )
        return groups

    @_filter_groups.setter
    def _filter_groups(self, value: Any) -> None:
        self.__dict__["_all_filter_groups"] = value

    def _added_filters(self) -> list[Any]:
        """The filters of the added fields the user's lists show (added_filters.py), per request."""
        if added_fields.model_key(self.model) is None or not has_request_context():
            return []
        if not current_user.is_authenticated:
            return []
        cache = request_cache("_coop_added_filters")
        if self.endpoint not in cache:
            definitions = added_fields.of_record(self.model, current_user.school_id)
            cache[self.endpoint] = [
                flt for d in definitions for flt in added_filters.filters_for(self.model, d)
            ]
        return cache[self.endpoint]

    def _searched(self, query: Any, joins: Any, text: str) -> tuple[Any, Any, search.Relevance | None]:
        """The rows that match the search box's text (coop/search.py: the full-text index of
        a searchable table, else the folding LIKE over the searchable columns), and the
        order by relevance (None: none)."""
        columns = []
        for field, path in self._search_fields or ():
            query, joins, alias = self._apply_path_joins(query, joins, path, inner_join=False)
            columns.append(field if alias is None else getattr(alias, field.key))
        query, relevance = search.apply(query, self.model, text, columns)
        return query, joins, relevance

    def handle_filter(self, filter: Any) -> Any:
        # A filter through an association table needs no join (see LinkedFilter).
        return filter if isinstance(filter, LinkedFilter) else super().handle_filter(filter)

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> Any:
        remote_model = getattr(self.model, name).property.mapper.class_
        return IdCheckingAjaxLoader(name, self.session, remote_model, **options)

    def init_actions(self) -> None:
        """Flask-Admin's actions, plus each workflow transition that needs no comment."""
        super().init_actions()
        flow = workflow.workflow_of(self.model)
        for transition in flow.transitions if flow else ():
            if not transition.comment_required:
                name = f"workflow_{transition.name}"
                self._actions.append((name, transition.label))
                self._actions_data[name] = (
                    partial(self._fire_on_rows, transition.name),
                    transition.label,
                    None,
                )

    def is_action_allowed(self, name: str) -> bool:
        if name.startswith("workflow_"):
            transition = workflow.find(self.model, name.removeprefix("workflow_"))
            return transition is not None and access.can(current_user, transition.permission)
        return super().is_action_allowed(name)

    # --- what the user may do -------------------------------------------------------

    @property
    def permission(self) -> str:  # type: ignore[override]
        return access.permission_name(self.model, "view")

    def _may(self, action: str, obj: Any = None) -> bool:
        return current_user.is_authenticated and access.can_on(current_user, action, self.model, obj)

    @property
    def can_create(self) -> bool:
        return self._may("create")

    @property
    def can_edit(self) -> bool:
        return self._may("edit")

    @property
    def can_delete(self) -> bool:
        return self._may("delete")

    def row_buttons(self, actions: list[Any], return_url: str) -> Callable[[Any], Markup]:
        """The buttons of a list's rows (coop/list.html), each link made once per page and
        the row's id put in, not a Jinja macro and a url_for per button: details, edit, and
        delete, a button that submits the page's one delete form (LIST_DELETE_FORM, one CSRF
        token per page). Edit and delete only where the policy allows them on that row."""
        user = current_user._get_current_object()  # the rules read it per row: not through the proxy
        shown: list[tuple[str | None, str]] = []
        for action in actions:
            title = escape(action.title or "")
            if isinstance(action, ViewRowAction | EditRowAction):
                endpoint, icon = (
                    (".details_view", "fa fa-eye glyphicon glyphicon-eye-open")
                    if isinstance(action, ViewRowAction)
                    else (".edit_view", "fa fa-pencil glyphicon glyphicon-pencil")
                )
                url = escape(self.get_url(endpoint, id=_ROW_ID, url=return_url))
                link = (
                    f'<a class="icon" href="{url}" title="{title}" aria-label="{title}">'
                    f'<span class="{icon}" aria-hidden="true"></span></a>'
                )
                shown.append((None if isinstance(action, ViewRowAction) else "edit", link))
            elif isinstance(action, DeleteRowAction):
                confirm = escape(admin_gettext("Are you sure you want to delete this record?"))
                shown.append(
                    (
                        "delete",
                        f'<button class="row-delete" form="{self.list_delete_form}" name="id" '
                        f'value="{_ROW_ID}" data-confirm="{confirm}" title="{title}" aria-label="{title}">'
                        '<span class="fa fa-trash glyphicon glyphicon-trash" aria-hidden="true"></span>'
                        "</button>",
                    )
                )
            else:
                raise TypeError(f"{type(action).__name__}: a row action coop/list.html does not draw")

        def buttons(row: Any) -> Markup:
            row_id = str(self.get_pk_value(row))
            return Markup(
                " ".join(  # spaced as Flask-Admin's macros space them
                    html.replace(_ROW_ID, row_id)
                    for action, html in shown
                    if action is None or access.can_on(user, action, self.model, row)
                )
            )

        return buttons

    # --- reading: every door goes through the policy -------------------------------

    def get_query(self) -> Any:
        # No get_count_query: only Flask-Admin's get_list asks for it, and ours counts this.
        return access.scope(super().get_query(), current_user, self.model)

    def get_list(
        self,
        page: int | None,
        sort_column: Any,
        sort_desc: bool,
        search: str | None,
        filters: Any,
        execute: bool = True,
        page_size: int | None = None,
    ) -> tuple[int | None, Any]:
        """Flask-Admin's list query, with a capped count and relations loaded without
        multiplying the page (see eager_load)."""
        query, joins, relevance = self.get_query(), cast(dict[str, Any], {}), None
        if self._search_supported and search:
            query, joins, relevance = self._searched(query, joins, search)
        if filters and self._filters and self.readable_fields() is None:
            query, _, joins, _ = self._apply_filters(query, None, joins, {}, filters)
        page_size = self.page_size if page_size is None else page_size
        offset = (page or 0) * (page_size or 0)
        matching = query
        # By relevance unless sorted by a column.
        by_relevance = relevance if sort_column is None else None
        if by_relevance is not None and page_size:
            # The page's ids in the order of relevance (search.page_of), then those rows.
            ids = search_page_of(query, by_relevance, offset, page_size)
            query = search_in_page(self.get_query(), self.model.id, ids)
        elif page_size:
            # A deferred join: the page's ids first, on the sort key alone (an index walks
            # past the rows before the page), then those rows with what they show. A deep
            # page costs about what the first does (OFFSET 50 000 over rows joined three
            # ways would build every skipped row). The id breaks ties in both orders.
            ordered, joins = self._apply_sorting(query, joins, sort_column, sort_desc)
            page_ids = self._apply_pagination(ordered.order_by(self.model.id), page, page_size)
            ids = page_ids.with_entities(self.model.id).subquery()
            query = self.get_query().filter(self.model.id.in_(select(ids.c.id)))
            query, _joins = self._apply_sorting(query, {}, sort_column, sort_desc)
            query = query.order_by(self.model.id)
        elif by_relevance is not None:
            query = query.order_by(*by_relevance.order)
        else:
            query, _joins = self._apply_sorting(query, joins, sort_column, sort_desc)
            query = query.order_by(self.model.id)
        query = query.options(*(eager_load(self._model_attr(name)) for name in self._auto_joins))
        if not execute:
            return capped_count(matching, self.model, offset, searched=relevance is not None), query
        rows = query.all()
        self.reasons_for(rows)  # one statement for the page's rows, if any needs it
        if page_size and len(rows) < page_size and (rows or not offset):
            return offset + len(rows), rows  # the last page: its rows are the count
        from_page = self._from_page(rows, sort_column, sort_desc) if relevance is None and offset else None
        return capped_count(matching, self.model, offset, relevance is not None, from_page), rows

    def _from_page(self, rows: list[Any], sort_column: Any, sort_desc: bool) -> Any:
        """For a list in the order of its ids alone, the rows from the page's first on (the
        `offset` before it need no counting: a deep page's count walks no more than the
        first's); None for any other order."""
        if not rows:
            return None
        if sort_column is not None:
            by_id = self._sortable_columns.get(sort_column) is self.model.id
            desc = sort_desc
        else:
            order = list(self._get_default_order())
            by_id = not order or (len(order) == 1 and order[0][0] is self.model.id)
            desc = bool(order) and order[0][2]
        if not by_id:
            return None
        first = rows[0].id
        return self.model.id <= first if desc else self.model.id >= first

    def _model_attr(self, name: Any) -> Any:
        return getattr(self.model, name) if isinstance(name, str) else name

    def get_one(self, id: Any) -> Any:
        """The row if the user may see it; 404 for foreign, missing or malformed ids.
        Loaded with every relation its form and details show (see eager_load)."""
        pk = parse_id(id)
        if pk is None:
            abort(404)
        query = self.get_query().options(*self._row_loads())
        row = query.filter(self.model.id == pk).one_or_none()
        if row is None:
            abort(404)
        return row

    def get_details_columns(self) -> list[tuple[Any, str]]:
        """Flask-Admin's, without the bookkeeping columns (version, trash, who and when):
        the page says who created and changed the row and when in one line (stamp)."""
        return [
            (name, label)
            for name, label in super().get_details_columns()
            if not (isinstance(name, str) and labels.is_bookkeeping(self.model, name))
        ]

    def _row_loads(self) -> list[Any]:
        names = {*(self.form_columns or ()), *(name for name, _label in self._details_columns)}
        return [
            eager_load(getattr(self.model, name))
            for name in sorted(names)
            if relationship_of(self.model, name) is not None
        ]

    def _get_filter_groups(self) -> Any:
        # Flask-Admin computes option lists once at start-up, for nobody; compute
        # them for the user asking. No filters for a reader of some fields only.
        if self.readable_fields() is not None:
            return {}
        preload_options(self._filters or ())
        for group in (self._filter_groups or {}).values():
            for item in group.filters:
                item["options"] = self._filters[item["index"]].get_options(self) or None
        return super()._get_filter_groups()

    # --- writing --------------------------------------------------------------------

    def _remove_owner_fields(self, form: Any) -> Any:
        for name in OWNER_FIELDS.get(access.role_of(current_user) or "", ()):
            if hasattr(form, name):
                delattr(form, name)
        return form

    def _fill_choices(self, form: Any) -> Any:
        """The plain relation selects (schools, catalogs) get their options, as (id, label)
        rows, from one statement, not one each; large tables are ajax look-ups (form_ajax_refs).
        A school picker lists the schools while the user sees few, read with one row more:
        past that it is a look-up (ListOrLookupField)."""
        fields = [field for field in form if isinstance(field, RowSelectField | RowSelectMultipleField)]
        if fields:
            up_to = {
                field.model: field.loader.list_up_to
                for field in fields
                if isinstance(field, ListOrLookupField)
            }
            choices = load_choices(list(dict.fromkeys(field.model for field in fields)), up_to)
            for field in fields:
                rows = choices[field.model]
                if isinstance(field, ListOrLookupField) and len(rows) > up_to[field.model]:
                    field.use_lookup()
                else:
                    field.rows = rows
        return form

    def validate_form(self, form: Any) -> bool:
        """Flask-Admin's, and a look-up field posted with an id the user may not see (or
        that does not exist) is an error: Flask-Admin would quietly save it as empty."""
        valid = super().validate_form(form)
        for field in form if request.method == "POST" else ():
            # (A multiple look-up refuses an unknown id itself.)
            single = isinstance(field, AjaxSelectField) and not isinstance(field, AjaxSelectMultipleField)
            posted = (getattr(field, "raw_data", None) or [""])[0] if single else ""
            if posted not in ("", "__None") and field.data is None:
                field.errors = [*field.errors, gettext("Not a valid choice")]
                valid = False
        return valid

    def create_form(self, obj: Any = None) -> Any:
        form = self._remove_owner_fields(self._form_with_added_fields(self._create_form_class, obj))
        return self._added_rules(self._fill_choices(form))

    def edit_form(self, obj: Any = None) -> Any:
        if obj is not None and not self._may("edit", obj):
            abort(403)
        form = self._remove_owner_fields(self._form_with_added_fields(self._edit_form_class, obj))
        form = self._added_rules(self._fill_choices(form))
        if obj is not None and request.method == "GET":
            form.loaded_version.data = str(obj.version)
        return form

    def scaffold_form(self) -> Any:
        form_class = super().scaffold_form()
        # The version the user started from travels with the form (see update_model).
        form_class.loaded_version = HiddenField()
        return form_class

    def update_model(self, form: Any, model: Any) -> bool:
        """Refuse to save over a newer version: say what changed and keep the input."""
        loaded = form.loaded_version.data
        if loaded and loaded != str(model.version):
            flash(
                gettext(
                    "Someone else saved this record while you were editing it (%(changes)s). "
                    "Your input is kept below: check it and save again to keep your values.",
                    changes=self._changes_since(model, loaded),
                ),
                "error",
            )
            form.loaded_version.data = str(model.version)
            return False
        return super().update_model(form, model)

    def _changes_since(self, model: Any, loaded_version: str) -> str:
        since = int(loaded_version) if loaded_version.isdigit() else 0
        fields: dict[str, Any] = {}
        for entry in reversed(self.history_for(model)):
            if (entry.row_version or 0) > since:
                for name, _before, after in history.shown_changes(entry.table_name, entry.changes):
                    fields[name] = (entry.user_email, after)
        return "; ".join(f"{name}: «{after}» ({who})" for name, (who, after) in fields.items()) or gettext(
            "no field details"
        )

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        # The new row is already in the session: an autoflush now would write it
        # (and have the ORM guard judge it) before its owner is set.
        with db.session.no_autoflush:
            access.assign_owner(current_user, model)
            access.require_on(current_user, "create" if is_created else "edit", self.model, model)

    def on_model_delete(self, model: Any) -> None:
        access.require_on(current_user, "delete", self.model, model)

    def delete_model(self, model: Any) -> bool:
        """Move the row (and its dependants) to the trash instead of deleting it."""
        try:
            self.on_model_delete(model)
            trash.discard(model)
            db.session.commit()
        except Exception as ex:
            db.session.rollback()
            if not self.handle_view_exception(ex):
                raise
            return False
        self.after_model_delete(model)
        return True

    # --- workflow -------------------------------------------------------------------

    def transitions_for(self, row: Any) -> list[workflow.Transition]:
        return workflow.available(current_user, row)

    def state_label(self, row: Any) -> str:
        flow = workflow.workflow_of(row)
        return str(flow.states.get(row.state, row.state)) if flow else ""

    def outcome(self, row: Any) -> str:
        """What a row a transition has just moved has become, as its person reads it:
        «Мероприятие «…»: На согласовании» (every workflow names its rows)."""
        flow = cast(workflow.Workflow, workflow.workflow_of(row))
        return gettext(
            "%(record)s «%(name)s»: %(state)s", record=flow.noun, name=row, state=self.state_label(row)
        )

    def landing(self, row: Any, wanted: str | None) -> str:
        """Where an action on row (None: on a selection) ends: the page it was started
        from if the user may still open it, else the row's details if the user still
        sees the row, else the list. Never a page the action has just closed to its
        author (a partner's submitted event is no longer the partner's to edit)."""
        if wanted and self._may_open(wanted, row):
            return wanted
        if row is not None and self._may("view", row):
            return self.get_url(".details_view", id=row.id)
        return self.get_url(".index_view")

    def _may_open(self, url: str, row: Any) -> bool:
        """Whether the user may open url now, as far as this view's row pages go: its edit
        page asks coop.access whether the user may edit the row, its details page whether
        the user may view it; any other page (a list, the review queue) judges itself."""
        parts = urlsplit(url)
        path = parts.path
        root = request.script_root
        if root and path.startswith(root):
            path = path[len(root) :]
        try:
            endpoint, _args = current_app.create_url_adapter(request).match(path, method="GET")  # type: ignore[union-attr]
        except HTTPException:
            return False
        action = {f"{self.endpoint}.edit_view": "edit", f"{self.endpoint}.details_view": "view"}.get(endpoint)
        if action is None:
            return True
        named = parse_qs(parts.query).get("id", [""])[0]
        return row is not None and named == str(row.id) and self._may(action, row)

    @expose("/transition/", methods=("POST",))
    def transition_view(self) -> Any:
        row = self.get_one(request.args.get("id", ""))
        try:
            workflow.fire(
                current_user, row, request.form.get("transition", ""), request.form.get("comment", "")
            )
            message = self.outcome(row)
            db.session.commit()
        except workflow.WorkflowError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(message, "success")
        return redirect(self.landing(row, get_redirect_target()))

    def _fire_on_rows(self, name: str, ids: list[int]) -> None:
        done: list[str] = []
        refused = 0
        # In the order the rows were entered: the messages name them in a stable order.
        for row in self.get_query().filter(self.model.id.in_(ids)).order_by(self.model.id).all():
            try:
                workflow.fire(current_user, row, name)
                done.append(self.outcome(row))
            except workflow.WorkflowError:
                refused += 1
        db.session.commit()
        for message in done[:OUTCOMES_SHOWN]:
            flash(message, "success")
        if refused or len(done) > OUTCOMES_SHOWN:
            flash(
                gettext(
                    "Done for %(done)d of %(total)d selected.", done=len(done), total=len(done) + refused
                ),
                "success" if not refused else "warning",
            )

    def reasons_for(self, rows: list[Any]) -> dict[int, History]:
        """Why each of rows is in its state, where its workflow shows it (workflow.Workflow.
        noticed): the transition that led there, by row id. Read once per request for a
        list page's rows (get_list), then from the request's cache."""
        flow = workflow.workflow_of(self.model)
        if flow is None or not flow.noticed or not has_request_context():
            return {}
        cache = request_cache("_coop_reasons")
        missing = [row for row in rows if (self.model, row.id) not in cache]
        if missing:
            found = history.reasons(missing, flow.noticed)
            cache.update({(self.model, row.id): found.get(row.id) for row in missing})
        return {row.id: entry for row in rows if (entry := cache[(self.model, row.id)]) is not None}

    def reason_for(self, row: Any) -> History | None:
        return self.reasons_for([row]).get(row.id)

    # --- attachments ----------------------------------------------------------------

    attachments = False  # a view that keeps files (documents, evidence) sets True

    def shows_files(self) -> bool:
        """Whether the row's page lists its files: a partner reading a school's agreement
        does not read the school's files, so the page says nothing of them."""
        return self.attachments and access.can(current_user, "storedfile.view")

    def files_for(self, row: Any) -> list[Any]:
        return uploads.attached_to(row) if self.shows_files() else []

    def may_attach(self, row: Any) -> bool:
        return (
            self.attachments and self._may("edit", row) and access.can(current_user, "storedfile.create", row)
        )

    @expose("/attach/", methods=("POST",))
    def attach_view(self) -> Any:
        row = self.get_one(request.args.get("id", ""))
        if not self.may_attach(row):
            abort(403)
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise uploads.UploadError(gettext("Choose a file to attach."))
            uploads.store(upload, row)
            db.session.commit()
        except uploads.UploadError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(gettext("The file is attached."), "success")
        return redirect(self.get_url(".details_view", id=row.id))

    # --- history --------------------------------------------------------------------

    def shows_history(self, row: Any) -> bool:
        """Whether the row's page has a history section: the row has one (the history and the
        sign-in log have none of their own) and the user reads this table's history (a partner
        reads its events' history, not that of the school's agreement with it)."""
        return isinstance(row, Tracked) and access.reads_history_of(current_user, self.model)

    def history_for(self, row: Any, limit: int = 50) -> list[Any]:
        stmt = (
            select(History)
            .where(History.table_name == row.__tablename__, History.row_id == row.id)
            .order_by(History.id.desc())
            .limit(limit)
        )
        entries = list(db.session.execute(stmt).scalars())
        history.name_references(entries)  # the rows the entries refer to, by name, in one go
        return entries

    def stamp(self, row: Any) -> list[tuple[str, str, str]]:
        """(«Создано», who, when) and, once it has changed, («Изменено», who, when) of a
        row, to the minute in the site's time zone; who as the history would name them."""
        if not isinstance(row, Tracked) or row.created_at is None:
            return []
        names = self._user_names({i for i in (row.created_by_id, row.updated_by_id) if i is not None})
        lines = [(gettext("Created"), self._author(row.created_by_id, names), formats.moment(row.created_at))]
        changed = row.updated_at is not None and formats.moment(row.updated_at) != formats.moment(
            row.created_at
        )
        if changed or row.updated_by_id != row.created_by_id:
            lines.append(
                (gettext("Changed"), self._author(row.updated_by_id, names), formats.moment(row.updated_at))
            )
        return lines

    def _user_names(self, ids: set[int]) -> dict[int, str]:
        # A school reads the history's authors but not the accounts table: the names only.
        if not ids or not self._may_read_authors():
            return {}
        stmt = select(User.id, User.name, User.email).where(User.id.in_(sorted(ids)))
        rows = db.session.execute(stmt, execution_options={"skip_scope": True})
        return {user_id: name or email for user_id, name, email in rows}

    def _may_read_authors(self) -> bool:
        fields = access.visible_fields(current_user, History)
        return fields is None or "user_email" in fields

    def _author(self, user_id: int | None, names: dict[int, str]) -> str:
        if user_id is None:  # the system: the demo, an import from the command line
            return gettext("System")
        if user_id in names:
            return names[user_id]
        if user_id == current_user.id:
            return current_user.name or current_user.email
        return gettext("Staff member")

    def history_author(self, entry: History) -> tuple[str, str]:
        """Who made a change and from which address, as far as the user may read them
        (a partner reads what happened to its events, not which staff member did it)."""
        if entry.user_id is None:  # the system: the demo, an import from the command line
            if entry.user_email not in ("", "system"):  # someone without an account, by a link
                if self._may_read_authors():
                    return gettext("%(email)s (by a link)", email=entry.user_email), entry.ip
                return gettext("By a link"), ""
            return gettext("System"), entry.ip if self._may_read_authors() else ""
        if self._may_read_authors():
            return entry.user_email, entry.ip
        return (entry.user_email if entry.user_id == current_user.id else gettext("Staff member")), ""

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, AccessDenied):
            flash(gettext("You are not allowed to do this with this record."), "error")
            return True
        if isinstance(exc, added_fields.FieldValueError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, IntegrityError):
            # The database's own message is SQL; say what it means.
            flash(gettext("Not saved: such a value already exists or a required field is empty."), "error")
            return True
        if isinstance(exc, StaleDataError):
            flash(
                gettext("Someone else has changed this record meanwhile. Reload it and try again."), "error"
            )
            return True
        return super().handle_view_exception(exc)

    # Flask-Admin answers a forbidden page with a redirect; say 403 instead.
    @expose("/new/", methods=("GET", "POST"))
    def create_view(self) -> Any:
        if not self.can_create:
            abort(403)
        return super().create_view()

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Any:
        if not self.can_edit:
            abort(403)
        return super().edit_view()

    @expose("/delete/", methods=("POST",))
    def delete_view(self) -> Any:
        if not self.can_delete:
            abort(403)
        return super().delete_view()

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self) -> Any:
        if not self.can_edit:
            abort(403)
        return super().ajax_update()

    def handle_action(self, return_view: str | None = None) -> Any:
        """Flask-Admin's, with the row ids read as integers (PostgreSQL will not
        compare an id with text) and a clear message for anything else. The form is not
        validated again: its one check, the CSRF token, CSRFProtect made before any view
        (an expired form is its 400 page)."""
        action = request.form.get("action", "")
        ids = [parse_id(value) for value in request.form.getlist("rowid")]
        if None in ids:
            flash(gettext("The selection is invalid: reload the list and try again."), "error")
        else:
            handler = self._actions_data.get(action)
            if handler and self.is_action_allowed(action):
                response = handler[0](ids)
                if response is not None:
                    return response
        return redirect(self.landing(None, get_redirect_target()))

    # --- export ---------------------------------------------------------------------

    def _export_csv(self, return_url: Any) -> Any:
        response = super()._export_csv(return_url)
        # Render inside the request: relation columns load lazily and need the session.
        response.set_data("".join(response.response))
        return response

    def _export_tablib(self, export_type: str, return_url: str) -> Any:
        """The workbook (export_types: csv has an export of its own), each value keeping its
        type: Flask-Admin's turns every cell into text (csv_encode), so a workbook's numbers
        could not be summed."""
        dataset = tablib.Dataset(headers=[str(label) for _name, label in self._export_columns])
        _count, rows = self._export_data()
        for row in rows:
            dataset.append([self.get_export_value(row, name) for name, _label in self._export_columns])
        filename = secure_filename(self.get_export_name(export_type))
        return current_app.response_class(
            dataset.export("xlsx"),
            headers={"Content-Disposition": f"attachment;filename={filename}"},
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    def get_export_value(self, model: Any, name: Any) -> Any:
        # Text never runs as a spreadsheet formula nor holds characters a workbook refuses.
        return safe_cell(super().get_export_value(model, name))
