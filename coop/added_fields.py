"""Fields added in the site (low-code, as Plone's Dexterity means it).

Core fields are columns of coop/models.py. An added field is a FieldDefinition row,
and a record's values of the added fields are in its `extra`: a JSON object from
each field's key to its value. This module is the one home of what each kind of
value is (KINDS: how a form asks for it, how a value is read and kept, how it is
shown), of which fields a record has, and of the check every write of `extra`
passes (at flush, whoever writes: a form, an import, the command line).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import Flask, g, has_request_context
from flask_admin.form import Select2Field
from flask_babel import gettext
from flask_login import current_user
from slugify import slugify
from sqlalchemy import ColumnElement, Connection, Numeric, event, inspect, literal_column, select
from sqlalchemy.orm import Session
from wtforms import fields
from wtforms.validators import InputRequired, Optional

from . import access, formats, tenancy
from . import models as m
from .extensions import db

# The records fields are added to, by the key a definition names them with.
MODELS: dict[str, type[Any]] = {
    "execution": m.EventExecution,
    "event": m.Event,
    "agreement": m.Agreement,
    "partner": m.Partner,
    "programme": m.Programme,
    "seminar": m.Seminar,
    "school": m.School,
}
MODEL_KEYS: dict[type[Any], str] = {model: key for key, model in MODELS.items()}
# An added field's name in forms, lists and exports: never a column's.
PREFIX = "extra__"
KEY_LENGTH = 40  # of a key made from a label
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEXT_LIMIT = {"text": 500, "long_text": 20_000}
NUMBER_LIMIT = 10**12
# Who fills a field in (FieldDefinition.filled_by), by role; the admin fills every field.
FILLERS: dict[str, frozenset[str]] = {
    "school": frozenset({"school"}),
    "partner": frozenset({"partner"}),
    "school_partner": frozenset({"school", "partner"}),
}


class FieldValueError(ValueError):
    """A value that does not fit its field; str() says which field and why, in Russian."""


# --- the kinds of value ---------------------------------------------------------------


def _text(value: Any, definition: m.FieldDefinition) -> str:
    text = str(value).replace("\x00", "").strip()
    if len(text) > TEXT_LIMIT.get(definition.kind, TEXT_LIMIT["text"]):
        raise ValueError(gettext("at most %(count)d characters", count=TEXT_LIMIT.get(definition.kind, 500)))
    return text


def _integer(value: Any, definition: m.FieldDefinition) -> int:
    if isinstance(value, bool):
        raise ValueError(gettext("a whole number is expected"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(gettext("a whole number is expected"))
    if abs(value) >= NUMBER_LIMIT:
        raise ValueError(gettext("the number is too large"))
    return value


def _decimal(value: Any, definition: m.FieldDefinition) -> int | float:
    if isinstance(value, bool):
        raise ValueError(gettext("a number is expected"))
    try:
        number = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(gettext("a number is expected")) from None
    if not number.is_finite():
        raise ValueError(gettext("a number is expected"))
    if abs(number) >= NUMBER_LIMIT:
        raise ValueError(gettext("the number is too large"))
    return int(number) if number == number.to_integral_value() else float(number)


def _date(value: Any, definition: m.FieldDefinition) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    for pattern in (formats.DATE, "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise ValueError(gettext("a date is expected, as 31.12.2024"))


YES = {"да", "yes", "true", "1", "+"}
NO = {"нет", "no", "false", "0", "-", ""}


def _boolean(value: Any, definition: m.FieldDefinition) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(gettext("«да» or «нет» is expected"))


def _choice(value: Any, definition: m.FieldDefinition) -> str:
    text = str(value).strip()
    if text not in choices_of(definition):
        raise ValueError(
            gettext("«%(value)s» is not in the list «%(list)s»", value=text, list=_list_name(definition))
        )
    return text


def _choices(value: Any, definition: m.FieldDefinition) -> list[str]:
    items = value if isinstance(value, list | tuple) else re.split(r"\s*;\s*", str(value).strip())
    return [_choice(item, definition) for item in items if str(item).strip()]


def _url(value: Any, definition: m.FieldDefinition) -> str:
    text = _text(value, definition)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise ValueError(gettext("a link is expected, as https://example.ru/"))
    return text


PHONE = re.compile(r"^\+?[\d\s()\-]{5,32}$")


def _email(value: Any, definition: m.FieldDefinition) -> str:
    text = _text(value, definition)
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError(gettext("an e-mail address is expected, as name@example.ru")) from None


def _phone(value: Any, definition: m.FieldDefinition) -> str:
    text = _text(value, definition)
    if not PHONE.match(text) or sum(c.isdigit() for c in text) < 5:
        raise ValueError(gettext("a phone number is expected, as +7 (3452) 12-34-56"))
    return text


def _shown_date(value: Any) -> str:
    return formats.date(dt.date.fromisoformat(value))


def shown_number(value: Any) -> str:
    """A number as a page shows it: 7,5 (a whole float without its ",0")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _shown_list(value: Any) -> str:
    return "; ".join(value)


@dataclass(frozen=True)
class Kind:
    """What a kind of value is: `read` takes a value from a form, a file, JSON or the
    command line and returns the value kept (ValueError with the reason if it does not
    fit); `form_field` makes the form's field; `form_value` turns a kept value into the
    form field's data; `show` writes it as a page shows it; `filters` names the family of
    list filters it gets (coop/views/added_filters.py). `number`: summed in the annual
    report and the dashboard; `text`: searched."""

    read: Callable[[Any, m.FieldDefinition], Any]
    form_field: Callable[..., Any]
    filters: str
    form_value: Callable[[Any], Any] = lambda value: value
    show: Callable[[Any], str] = str
    number: bool = False
    text: bool = False


def _select(multiple: bool) -> Callable[..., Any]:
    def make(definition: m.FieldDefinition, **kwargs: Any) -> Any:
        choices = [(item, item) for item in choices_of(definition)]
        if multiple:
            return fields.SelectMultipleField(choices=choices, **kwargs)
        return Select2Field(choices=choices, allow_blank=True, blank_text="—", **kwargs)

    return make


def _plain(field: type[Any], **defaults: Any) -> Callable[..., Any]:
    return lambda definition, **kwargs: field(**defaults, **kwargs)


def _number(field: type[Any]) -> Callable[..., Any]:
    """A number field of the form whose refusal names the field and says why in Russian, as
    the check at the write does (read), not WTForms' «Not a valid integer value»; a decimal
    takes a comma and spaces as written in Russian («1 234,5»)."""

    class AddedNumber(field):
        definition: m.FieldDefinition

        def process_formdata(self, valuelist: list[Any]) -> None:
            if not valuelist or not str(valuelist[0]).strip():
                self.data = None
                return
            try:
                self.data = read(self.definition, valuelist[0])
            except FieldValueError as error:
                self.data = None
                raise ValueError(str(error)) from None
            if self.data is not None and isinstance(self, fields.DecimalField):
                self.data = Decimal(str(self.data))

    def make(definition: m.FieldDefinition, **kwargs: Any) -> Any:
        bound: Any = type("AddedNumber", (AddedNumber,), {"definition": definition})
        return bound(**kwargs)

    return make


def _date_field(definition: m.FieldDefinition, **kwargs: Any) -> Any:
    from .views.display import DatePicker  # the views' own date picker (дд.мм.гггг)

    return fields.DateField(format=[formats.DATE, "%Y-%m-%d"], widget=DatePicker(), **kwargs)


KINDS: dict[str, Kind] = {
    "text": Kind(_text, _plain(fields.StringField), "text", text=True),
    "long_text": Kind(_text, _plain(fields.TextAreaField), "text", text=True),
    "integer": Kind(_integer, _number(fields.IntegerField), "number", number=True),
    "decimal": Kind(
        _decimal,
        _number(fields.DecimalField),
        "number",
        form_value=lambda value: Decimal(str(value)),
        show=shown_number,
        number=True,
    ),
    "date": Kind(_date, _date_field, "date", form_value=dt.date.fromisoformat, show=_shown_date),
    "boolean": Kind(_boolean, _plain(fields.BooleanField), "boolean", show=formats.yes_no),
    "choice": Kind(_choice, _select(multiple=False), "choice"),
    "choices": Kind(_choices, _select(multiple=True), "choices", show=_shown_list),
    "url": Kind(_url, _plain(fields.URLField), "text", text=True),
    "email": Kind(_email, _plain(fields.EmailField), "text", text=True),
    "phone": Kind(_phone, _plain(fields.TelField), "text", text=True),
}


def choices_of(definition: m.FieldDefinition) -> list[str]:
    return list(definition.choice_list.items or ()) if definition.choice_list is not None else []


def _list_name(definition: m.FieldDefinition) -> str:
    return definition.choice_list.name if definition.choice_list is not None else "—"


def read(definition: m.FieldDefinition, value: Any) -> Any:
    """The value kept for definition from value (None: empty); FieldValueError naming the field."""
    if value is None or value == "" or value == []:
        return None
    try:
        return KINDS[definition.kind].read(value, definition)
    except ValueError as error:
        raise FieldValueError(
            gettext("«%(field)s»: %(reason)s", field=definition.label, reason=str(error))
        ) from None


def shown(definition: m.FieldDefinition, value: Any) -> str:
    """A kept value as a page shows it; "" for none."""
    if value is None or value == "" or value == []:
        return ""
    try:
        return KINDS[definition.kind].show(value)
    except (TypeError, ValueError):  # kept before the field's kind changed
        return str(value)


# --- which fields a record has ------------------------------------------------------------


# Every definition, by the state the user's load read (models.User.added_fields_state):
# read again only when a definition or a list has changed, in this process or another.
_read_in_state: dict[str, list[m.FieldDefinition]] = {}


def _read() -> list[m.FieldDefinition]:
    stmt = (
        select(m.FieldDefinition)
        .options(db.joinedload(m.FieldDefinition.choice_list))
        .order_by(m.FieldDefinition.sort_order, m.FieldDefinition.label, m.FieldDefinition.id)
    )
    return list(db.session.execute(stmt).scalars())


def _all_definitions() -> list[m.FieldDefinition]:
    """Every definition the asker may see, not in the trash, with its choice list: from
    the process's copy while the user's load says nothing changed, else from the database
    (under the policy)."""
    if not has_request_context():
        return _read()
    if "_coop_added_fields" in g:
        return g._coop_added_fields
    state = getattr(current_user, "added_fields_state", None) if current_user.is_authenticated else None
    if state is None or g.get("_coop_added_fields_written"):
        found = _read()
    else:
        if state not in _read_in_state:
            with tenancy.as_system():
                everything = _read()
            for definition in everything:  # kept beyond this request: detached, loaded whole
                db.session.expunge(definition)
                if definition.choice_list is not None and definition.choice_list in db.session:
                    db.session.expunge(definition.choice_list)
            _read_in_state.clear()
            _read_in_state[state] = everything
        principal = tenancy.current_principal()
        found = [
            d for d in _read_in_state[state] if principal is tenancy.SYSTEM or access.visible(principal, d)
        ]
    g._coop_added_fields = found
    return found


def forget() -> None:
    """Read the definitions again, from the database, for the rest of the request (one was written)."""
    if has_request_context():
        g.pop("_coop_added_fields", None)
        g.pop("_coop_added_by_key", None)  # views/base.py's per-request look-up by key
        g._coop_added_fields_written = True


def model_key(model: type[Any]) -> str | None:
    return MODEL_KEYS.get(model)


def of_record(
    model: type[Any], school_id: int | None, *, include_off: bool = False
) -> list[m.FieldDefinition]:
    """The fields a record of model at school_id has: the municipality's and, for a
    school's record, the school's own; switched on only unless include_off."""
    key = MODEL_KEYS.get(model)
    return [
        definition
        for definition in _all_definitions()
        if definition.model == key
        and (include_off or definition.is_active)
        and (definition.school_id is None or definition.school_id == school_id)
    ]


def definition_of(model: type[Any], key: str) -> m.FieldDefinition | None:
    """The field of model with key among those the asker sees, switched off or not (two
    schools' own fields may share a key: the municipality's, then the first)."""
    found = [d for d in _all_definitions() if d.model == MODEL_KEYS.get(model) and d.key == key]
    return min(found, key=lambda d: d.school_id is not None, default=None)


def filled_by(definition: m.FieldDefinition, role: str | None) -> bool:
    """Whether a user of role fills definition in (the admin fills every field)."""
    return role == "admin" or (role is not None and role in FILLERS.get(definition.filled_by, frozenset()))


def record_school(obj: Any) -> int | None:
    """The school whose own fields a record has: the school itself, or the record's school."""
    if isinstance(obj, m.School):
        return obj.id
    school = obj.__dict__.get("school")
    return school.id if school is not None else getattr(obj, "school_id", None)


def values_of(obj: Any) -> list[tuple[m.FieldDefinition, str]]:
    """(field, value as shown) of a record's switched-on added fields, in their order."""
    values = obj.extra or {}
    return [(d, shown(d, values.get(d.key))) for d in of_record(type(obj), record_school(obj))]


def grouped(definitions: Iterable[m.FieldDefinition]) -> list[tuple[str, list[m.FieldDefinition]]]:
    """The fields by their group, the groups in the order of their first field."""
    groups: dict[str, list[m.FieldDefinition]] = {}
    for definition in definitions:
        groups.setdefault(definition.group, []).append(definition)
    return list(groups.items())


# --- forms --------------------------------------------------------------------------------


def form_field(definition: m.FieldDefinition) -> Any:
    """The unbound form field of definition: typed, with its hint and requiredness."""
    validators = [InputRequired() if definition.required and definition.kind != "boolean" else Optional()]
    return KINDS[definition.kind].form_field(
        definition, label=definition.label, description=definition.help_text, validators=validators
    )


def form_data(definition: m.FieldDefinition, value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    try:
        return KINDS[definition.kind].form_value(value)
    except (TypeError, ValueError):
        return None


def with_values(obj: Any, posted: dict[m.FieldDefinition, Any]) -> dict[str, Any]:
    """obj's added values with those posted (by definition) put in; an emptied one removed.
    Keys of fields not posted (switched off, filled by another role) are kept."""
    values = dict(obj.extra or {})
    for definition, value in posted.items():
        kept = read(definition, value)
        if kept is None:
            values.pop(definition.key, None)
        else:
            values[definition.key] = kept
    return values


# --- the check at every write -----------------------------------------------------------


def check(obj: Any, known: list[m.FieldDefinition] | None = None) -> None:
    """FieldValueError if obj's added values do not fit their definitions; else the values
    as kept (a number read from text becomes a number). Every definition counts, the
    switched-off and those in the trash too (their values stay). known: every definition
    of obj's kind of record, read once for a whole flush (_check_flush); else read here."""
    values = obj.extra or {}
    if not values:
        return
    if not isinstance(values, dict):
        raise FieldValueError(gettext("The added fields' values must be an object of keys and values."))
    model = MODEL_KEYS[type(obj)]
    school_id = record_school(obj)
    found = _definitions_of({model}, list(values)) if known is None else known
    definitions = {
        d.key: d for d in found if d.model == model and (d.school_id is None or d.school_id == school_id)
    }
    checked = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise FieldValueError(gettext("The field «%(key)s» is not defined for this record.", key=key))
        if definition.deleted_at is not None:
            checked[key] = value  # kept as it was until the field is purged
            continue
        kept = read(definition, value)
        if kept is not None:
            checked[key] = kept
    if checked != values:
        obj.extra = checked


def _definitions_of(models: set[str], keys: list[str] | None = None) -> list[m.FieldDefinition]:
    """Every definition of those kinds of record (with those keys), the trash and other
    schools' included, with their choice lists: one statement."""
    stmt = (
        select(m.FieldDefinition)
        .options(db.joinedload(m.FieldDefinition.choice_list))
        .where(m.FieldDefinition.model.in_(sorted(models)))
    )
    if keys is not None:
        stmt = stmt.where(m.FieldDefinition.key.in_(keys))
    options = {"skip_scope": True, "include_deleted": True}
    return list(db.session.execute(stmt, execution_options=options).unique().scalars())


ROWS_NAMED = 5  # rows a refusal names, then «and N more»
CHOICE_KINDS = ("choice", "choices")


def check_definition(definition: m.FieldDefinition) -> None:
    """FieldValueError if a field definition cannot be kept: a malformed or taken key, a
    choice kind without its list, or a change of kind (or list) its values do not fit."""
    if definition.model not in MODELS:
        raise FieldValueError(gettext("Choose the record the field is added to."))
    if definition.kind not in KINDS:
        raise FieldValueError(gettext("Choose the kind of value."))
    if not (definition.key or "").strip():
        definition.key = _key_from(definition)
    if not KEY_PATTERN.match(definition.key or ""):
        raise FieldValueError(
            gettext(
                "The key is Latin lowercase letters, digits and «_», starting with a letter: ovz_students."
            )
        )
    if not (definition.label or "").strip():
        raise FieldValueError(gettext("The field needs a label."))
    if (
        definition.kind in CHOICE_KINDS
        and definition.choice_list is None
        and definition.choice_list_id is None
    ):
        raise FieldValueError(gettext("A field of this kind needs a choice list."))
    if definition.kind not in CHOICE_KINDS:
        definition.choice_list, definition.choice_list_id = None, None
    if _taken(definition, definition.key):
        raise FieldValueError(
            gettext("The key «%(key)s» is taken by another field of this record.", key=definition.key)
        )
    if definition.id is not None:
        _check_kept_values(definition)


def _taken(definition: m.FieldDefinition, key: str) -> bool:
    """Whether another field of the same record has key: the municipality's key is every
    school's; a school's own key is the school's (the trash included: it may come back)."""
    stmt = select(m.FieldDefinition.id).where(
        m.FieldDefinition.model == definition.model,
        m.FieldDefinition.key == key,
        m.FieldDefinition.id != (definition.id or 0),
    )
    if definition.school_id is not None:
        stmt = stmt.where(
            m.FieldDefinition.school_id.is_(None) | (m.FieldDefinition.school_id == definition.school_id)
        )
    options = {"skip_scope": True, "include_deleted": True}
    return db.session.execute(stmt, execution_options=options).first() is not None


def _key_from(definition: m.FieldDefinition) -> str:
    """A key made from the label: «Обучающиеся с ОВЗ» → obuchaiushchiesia_s_ovz (then _2, _3…)."""
    base = (
        slugify(definition.label or "", separator="_", max_length=KEY_LENGTH, word_boundary=True) or "field"
    )
    if not base[0].isalpha():
        base = f"f_{base}"
    key, number = base, 1
    while _taken(definition, key):
        number += 1
        key = f"{base}_{number}"
    return key


def _check_kept_values(definition: m.FieldDefinition) -> None:
    """Convert the values kept for definition to its (new) kind, or refuse naming the
    records whose value does not fit."""
    model = MODELS[definition.model]
    stmt = select(model).where(model.extra[definition.key].as_string().isnot(None))
    if definition.school_id is not None:
        stmt = stmt.where(
            model.id == definition.school_id if model is m.School else model.school_id == definition.school_id
        )
    rows = db.session.execute(stmt, execution_options={"skip_scope": True, "include_deleted": True}).scalars()
    unfit: list[str] = []
    converted: list[tuple[Any, Any]] = []
    for row in rows:
        value = (row.extra or {}).get(definition.key)
        try:
            kept = KINDS[definition.kind].read(value, definition)
        except ValueError:
            unfit.append(f"«{row}» ({value if not isinstance(value, list) else '; '.join(map(str, value))})")
            continue
        if kept != value:
            converted.append((row, kept))
    if unfit:
        named = ", ".join(unfit[:ROWS_NAMED])
        if len(unfit) > ROWS_NAMED:
            named += " " + gettext("and %(count)d more", count=len(unfit) - ROWS_NAMED)
        raise FieldValueError(
            gettext(
                "Not changed: the values of «%(field)s» in these records do not fit: %(rows)s.",
                field=definition.label,
                rows=named,
            )
        )
    for row, kept in converted:
        row.extra = {**row.extra, definition.key: kept}


def _check_flush(session: Session, flush_context: Any, instances: Any) -> None:
    written = [*session.new, *(obj for obj in session.dirty if session.is_modified(obj))]
    with session.no_autoflush:
        for obj in written:
            if isinstance(obj, m.FieldDefinition | m.ChoiceList):
                forget()
            if isinstance(obj, m.FieldDefinition) and obj.deleted_at is None:
                check_definition(obj)
            elif isinstance(obj, m.ChoiceList) and obj in session.dirty:
                for definition in _using(obj):
                    _check_kept_values(definition)
        # The records whose added values are written: their definitions read once for the
        # flush (an import of N lines costs one statement, not N).
        checked = [
            obj
            for obj in written
            if type(obj) in MODEL_KEYS and obj.extra and (obj in session.new or _changed(obj, "extra"))
        ]
        if checked:
            known = _definitions_of({MODEL_KEYS[type(obj)] for obj in checked})
            for obj in checked:
                check(obj, known)


def _changed(obj: Any, name: str) -> bool:
    return inspect(obj).attrs[name].history.has_changes()


def _using(choice_list: m.ChoiceList) -> list[m.FieldDefinition]:
    stmt = select(m.FieldDefinition).where(m.FieldDefinition.choice_list_id == choice_list.id)
    return list(db.session.execute(stmt, execution_options={"skip_scope": True}).scalars())


# --- the index a filter on a number field reads (PostgreSQL) ---------------------------------


def _pg_number(table: str, key: str) -> str:
    """PostgreSQL: a field's value as a number, NULL when it holds no number (a value kept
    from another kind, a school's own field of another kind under the same key): the
    expression never fails, so an index of it never stops a write."""
    assert KEY_PATTERN.match(key)
    value = f"{table}.extra" if table else "extra"
    return (
        f"CASE WHEN jsonb_typeof({value} -> '{key}') = 'number' "
        f"THEN CAST(({value} ->> '{key}') AS NUMERIC) END"
    )


def number_value(model: type[Any], definition: m.FieldDefinition) -> ColumnElement[Any]:
    """An added number field's value as SQL, as the list filters compare it. On PostgreSQL
    it is written whole as text (_pg_number: the key a literal, KEY_PATTERN's letters, digits
    and «_»), so that the planner matches the expression index of the field (sync_index)."""
    if db.engine.dialect.name == "postgresql":
        return literal_column(_pg_number(model.__tablename__, definition.key), Numeric)
    value = model.extra[definition.key]
    return value.as_integer() if definition.kind == "integer" else value.as_float()


def index_name(model_key: str, key: str) -> str:
    """The name of the expression index of a field's values (at most PostgreSQL's 63 characters)."""
    table = MODELS[model_key].__tablename__
    name = f"ix_{table}_x_{key}"
    return name if len(name) <= 63 else f"ix_{table}_x_{hashlib.sha1(key.encode()).hexdigest()[:16]}"


def is_field_index(name: str | None) -> bool:
    """Whether an index is one of sync_index's (Alembic leaves them out of its comparison)."""
    return bool(name) and any(
        str(name).startswith(f"ix_{model.__tablename__}_x_") for model in MODELS.values()
    )


def wants_index(definition: m.FieldDefinition) -> bool:
    """Whether a field's values are indexed for its filters (PostgreSQL): a number field of
    the municipality's, not in the trash (a school's own field filters that school's rows only)."""
    kind = KINDS.get(definition.kind)
    return bool(kind and kind.number and definition.school_id is None and definition.deleted_at is None)


def sync_index(connection: Connection, model_key: str, key: str, wanted: bool) -> None:
    """PostgreSQL: make or drop the expression index of a field's values, in the connection's
    transaction (CREATE INDEX, not CONCURRENTLY: the table's writes wait for it, a second or
    so at the benchmark's 100,000 plan lines). The expression is number_value's."""
    if connection.dialect.name != "postgresql" or model_key not in MODELS or not KEY_PATTERN.match(key):
        return
    name = index_name(model_key, key)
    if wanted:
        table = MODELS[model_key].__tablename__
        connection.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (({_pg_number('', key)}))")
    else:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def _keep_indexes(session: Session, flush_context: Any) -> None:
    """After a flush that wrote field definitions: their indexes made or dropped with them."""
    written = [
        obj for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, m.FieldDefinition)
    ]
    if not written or session.get_bind().dialect.name != "postgresql":
        return
    connection = session.connection()
    for definition in written:
        history = inspect(definition).attrs["key"].history
        for old_key in history.deleted or ():  # a key changed: the old one's index goes
            if old_key and old_key != definition.key:
                sync_index(connection, definition.model, old_key, False)
        wanted = definition not in session.deleted and wants_index(definition)
        sync_index(connection, definition.model, definition.key, wanted)


def init_app(app: Flask) -> None:
    if not event.contains(Session, "before_flush", _check_flush):
        event.listen(Session, "before_flush", _check_flush)
    if not event.contains(Session, "after_flush", _keep_indexes):
        event.listen(Session, "after_flush", _keep_indexes)
