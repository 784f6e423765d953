"""Labels and choices live on the model's columns (coop/labels.py), and every screen,
the history and the exports read them there: a field is named once, a code never shows."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import inspect, select

from coop import formats, labels, tenancy
from coop import models as m
from coop.extensions import db
from coop.history import shown_changes
from coop.views.base import AcademicYearField, SecuredModelView, _academic_year, _state_with_reason

CYRILLIC = re.compile("[А-Яа-яЁё]")

# Every coded column of every model: (model, field).
CODED = sorted(
    (
        (mapper.class_, field)
        for mapper in db.Model.registry.mappers
        for field in labels.choices_of(mapper.class_)
    ),
    key=lambda pair: (pair[0].__name__, pair[1]),
)
CODED_IDS = [f"{model.__name__}.{field}" for model, field in CODED]
TRACKED_CODED = [(model, field) for model, field in CODED if issubclass(model, m.Tracked)]


def _views(app: Flask) -> list[SecuredModelView]:
    return [view for view in app.extensions["admin"][0]._views if isinstance(view, SecuredModelView)]


def _view_of(app: Flask, model: type) -> SecuredModelView | None:
    return next((view for view in _views(app) if view.model is model), None)


def _shown_fields(view: SecuredModelView) -> set[str]:
    """The model's fields a view lists, details, exports, searches, filters or edits."""
    fields = {name for name, _label in (*view._list_columns, *view._details_columns, *view._export_columns)}
    fields |= {name if isinstance(name, str) else name.key for name in view.column_searchable_list or ()}
    for flt in view._filters or ():
        column = getattr(flt, "column", None)
        fields.add(column.key if column is not None else flt.name)
    fields |= set(view.form_columns or ()) - set(view.form_extra_fields or ())
    return fields


def test_no_model_view_declares_labels_or_choices(app: Flask) -> None:
    """The views take them from the model: none words a field its own way."""
    for view in _views(app):
        for cls in type(view).__mro__:
            if cls is SecuredModelView:
                break
            declared = {"column_labels", "column_choices", "form_choices"} & set(vars(cls))
            assert not declared, f"{cls.__name__} declares {declared}"


def test_every_field_a_view_shows_has_a_label(app: Flask) -> None:
    missing = [
        f"{view.model.__name__}.{name}"
        for view in _views(app)
        for name in sorted(_shown_fields(view))
        if not labels.has_label(view.model, name)
    ]
    assert not missing


def test_every_column_has_a_label() -> None:
    """The history names any column that changes, so each column has a label (the id excepted);
    a reference without its own reads its relation's."""
    missing = [
        f"{mapper.class_.__name__}.{prop.key}"
        for mapper in db.Model.registry.mappers
        for prop in mapper.column_attrs
        if prop.key != "id" and not labels.has_label(mapper.class_, prop.key)
    ]
    assert not missing


def test_a_reference_reads_the_label_of_its_relation(app: Flask) -> None:
    with app.test_request_context():
        assert labels.label(m.Event, "school_id") == labels.label(m.Event, "school") == "Школа"
        assert labels.label(m.User, "partner_id") == labels.label(m.User, "partner")


def test_documents_outside_the_app_are_russian() -> None:
    assert labels.choice_label(m.Event, "state", "submitted") == "На согласовании"
    assert labels.choice_label(m.Event, "state", "unknown") == "unknown"
    assert labels.choice_label(m.Event, "state", None) == ""


# --- the history --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "field"), CODED, ids=CODED_IDS)
def test_history_shows_every_code_by_its_russian_label(app: Flask, model: type, field: str) -> None:
    with app.test_request_context():
        name = labels.label(model, field)
        assert CYRILLIC.search(name), f"{model.__name__}.{field} has no Russian label: {name!r}"
        for code, choice in labels.choices(model, field).items():
            ((shown_name, before, after),) = shown_changes(model.__tablename__, {field: [None, code]})
            assert (shown_name, before, after) == (name, "—", str(choice))
            assert after != code and CYRILLIC.search(after), f"{model.__name__}.{field}={code}: {after!r}"


@pytest.mark.parametrize(
    ("model", "field"), TRACKED_CODED, ids=[f"{model.__name__}.{field}" for model, field in TRACKED_CODED]
)
def test_a_recorded_change_of_a_code_shows_its_label(app: Flask, model: type, field: str) -> None:
    """The whole way: a change written to the history by the session events, then shown."""
    with app.test_request_context(), tenancy.as_system():
        row = db.session.execute(select(model).order_by(model.id).limit(1)).scalar_one()
        old = getattr(row, field)
        new = next(code for code in labels.choices(model, field) if code != old)
        setattr(row, field, new)
        try:
            db.session.flush()
            entry = db.session.execute(
                select(m.History)
                .where(m.History.table_name == model.__tablename__, m.History.row_id == row.id)
                .order_by(m.History.id.desc())
                .limit(1)
            ).scalar_one()
            shown = {
                name: (before, after)
                for name, before, after in shown_changes(entry.table_name, entry.changes)
            }
        finally:
            db.session.rollback()
        assert shown[labels.label(model, field)] == (
            labels.choice_label(model, field, old),
            labels.choice_label(model, field, new),
        )
        assert new not in shown[labels.label(model, field)]


# --- the screens ----------------------------------------------------------------------------------------


def _page(client: FlaskClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.fromstring(response.text)


def _text(element: Any) -> str:
    return " ".join(element.text_content().split())


@pytest.mark.parametrize(("model", "field"), CODED, ids=CODED_IDS)
def test_list_filter_and_form_show_the_same_labels(
    app: Flask, client_as: Any, model: type, field: str
) -> None:
    view = _view_of(app, model)
    if view is None:
        pytest.skip(f"no admin view lists {model.__name__}")
    with app.test_request_context():
        name = labels.label(model, field)
        choices = {code: str(choice) for code, choice in labels.choices(model, field).items()}
    client = client_as("admin")
    listed = {column for column, _label in view._list_columns}
    filtered = {getattr(flt, "column", None) is not None and flt.column.key for flt in view._filters or ()}
    assert field in listed | filtered | set(view.form_columns or ()), f"{view.endpoint} never shows {field}"

    page = _page(client, f"/admin/{view.endpoint}/?page_size=100")
    if field in listed:
        (header,) = page.xpath(f"//th[contains(concat(' ', @class, ' '), ' col-{field} ')]")
        assert _text(header) == name
        cells = [_text(cell) for cell in page.xpath(f"//td[@class='col-{field}']")]
        assert cells, f"the demo has no {model.__name__} to list"
        allowed = set(choices.values()) | _empty(model, field)
        assert set(cells) <= allowed, f"codes in the list: {set(cells) - allowed}"

    if field in filtered:
        (data,) = page.xpath("//*[@id='filter-groups-data']")
        groups = json.loads(data.text)
        assert name in groups, f"no filter named {name!r}: {sorted(groups)}"
        # (The group also holds "is empty", whose options are yes and no.)
        options = [dict(flt["options"]) for flt in groups[name] if flt.get("options")]
        coded = [option for option in options if set(option) & set(choices)]
        assert coded and all(option == choices for option in coded), options

    if field in (view.form_columns or ()):  # the admin may create every row that has a form
        form = _page(client, f"/admin/{view.endpoint}/new/")
        (label,) = form.xpath(f"//label[@for='{field}']")
        assert _text(label).rstrip(" *") == name
        (select_,) = form.xpath(f"//select[@id='{field}']")
        shown = {option.get("value"): _text(option) for option in select_.xpath(".//option")}
        shown.pop("__None", None)
        assert shown == choices


def _empty(model: type, field: str) -> set[str]:
    """What a coded column that may be empty shows for none: nothing (never "None")."""
    return {""} if inspect(model).columns[field].nullable else set()


def test_mapped_columns_keep_their_info_per_model() -> None:
    """A mixin's column is copied into each model with its label (Catalog.name, Tracked.created_at)."""
    for model in (*m.CATALOGS, m.Event):
        column = inspect(model).columns["created_at"]
        assert column.info["label"] is inspect(m.Remark).columns["created_at"].info["label"]
    assert labels.has_label(m.PartnerKind, "name") and labels.has_label(m.Audience, "code")


@pytest.mark.parametrize(("model", "field"), CODED, ids=CODED_IDS)
def test_the_list_export_shows_the_same_labels(app: Flask, client_as: Any, model: type, field: str) -> None:
    view = _view_of(app, model)
    if view is None or field not in {name for name, _label in view._export_columns}:
        pytest.skip(f"no export of {model.__name__} shows {field}")
    with app.test_request_context():
        name = labels.label(model, field)
        choices = {str(choice) for choice in labels.choices(model, field).values()}
    response = client_as("admin").get(f"/admin/{view.endpoint}/export/csv/")
    assert response.status_code == 200
    header, *rows = csv.reader(io.StringIO(response.get_data(as_text=True)))
    column = header.index(name)
    values = {row[column] for row in rows}
    assert values and values <= choices | _empty(model, field), values - choices


def test_a_view_takes_its_labels_choices_and_year_formats_from_its_model(app: Flask) -> None:
    """What SecuredModelView.__init__ gives every view, on views built here (the app's were
    built before any test): the plan line's (a workflow whose returned lines say why, two
    academic years, formatters of its own) and the partner's (neither)."""
    event_class = type(_view_of(app, m.Event))
    partner_class = type(_view_of(app, m.Partner))
    event = event_class(m.Event, name="Проба", endpoint="probe_event")  # outside a request, as at start
    partner = partner_class(m.Partner, name="Проба", endpoint="probe_partner")
    with app.test_request_context():
        coded = {field: list(choices.items()) for field, choices in labels.choices_of(m.Event).items()}
        assert "state" in coded
        assert event.column_labels == labels.labels_of(m.Event)
        years = formats.academic_year_choices()
        assert event.column_choices == {"first_year": years, "last_year": years, **coded}
        assert event.form_choices == coded
        assert event.form_overrides == {"first_year": AcademicYearField, "last_year": AcademicYearField}
        own = event_class.column_formatters
        formatters = dict(event.column_formatters)
        # The plan's view says the year's state too (coop/views/outcomes.py), around the reason.
        assert formatters.pop("state").args == (_state_with_reason,)
        assert formatters == {"first_year": _academic_year, "last_year": _academic_year, **own}
        # The details page says why in a box of its own, not in the field.
        assert event.column_formatters_detail == {
            "first_year": _academic_year,
            "last_year": _academic_year,
            **own,
        }
        export = event_class.column_formatters_export
        assert event.column_formatters_export == {
            "first_year": _academic_year,
            "last_year": _academic_year,
            **export,
        }

        # Flask-Admin's own arguments reach it: the name in the menu, the endpoint.
        assert (event.name, event.endpoint) == ("Проба", "probe_event")
        # A view's own formatter of the state is its own: the reason is not put in its place.
        own_state = type(
            "OwnStateView", (event_class,), {"column_formatters": {**own, "state": _academic_year}}
        )
        assert own_state(m.Event, endpoint="probe_own_state").column_formatters["state"].args == (
            _academic_year,
        )

        assert partner.column_labels == labels.labels_of(m.Partner)
        assert "state" not in partner.column_formatters
        assert not partner.column_formatters_detail
        assert partner.form_overrides == {}
