"""The site's configuration as a file (as Plone's GenericSetup profiles move a site's setup).

`coop config export` writes the catalogs, the choice lists, the fields added in the
site (coop/added_fields.py) and the shared saved views (coop/saved_views.py: those shown
to a school or to everyone, not the personal ones) as JSON; `coop config import` applies
such a file idempotently: each row found by its natural key (a catalog's code or name; a
list's name and school; a field's record, key and school; a saved view's list, name and
owner's e-mail), added or changed, never deleted. A file it
cannot read, or one from a newer version, is refused; any error writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import inspect, select

from . import access, added_fields, labels, saved_views
from . import models as m
from .extensions import db

FORMAT = "coop-site-config"
VERSION = 1
# A definition's own columns in the file; "school" and "choice_list" name rows by their names.
FIELD_COLUMNS = (
    *("model", "key", "label", "label_en", "kind", "required", "help_text", "group"),
    *("sort_order", "filled_by", "in_list", "in_plan_document", "is_active"),
)
# The saved views the file carries: shared ones (a personal view is its owner's alone).
SHARED = ("school", "everyone")
VIEW_KEYS = ("endpoint", "name", "visibility", "owner", "school", "query", "columns")
# The arguments of a list's URL a saved view keeps (coop/saved_views.py: normalise_query).
VIEW_ARGS = ("search", "sort", "desc", "page_size")
FIELD_DEFAULTS: dict[str, Any] = {
    "label_en": "",
    "required": False,
    "help_text": "",
    "group": "",
    "sort_order": 100,
    "filled_by": "school",
    "in_list": False,
    "in_plan_document": False,
    "is_active": True,
}


class ConfigError(ValueError):
    """A file that cannot be applied; str() says where and why, in Russian."""


@dataclass
class Outcome:
    """What an import did (or, dry, would do): one line per row added or changed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # a school's own rows, that school not on this site
    unchanged: int = 0

    def lines(self) -> list[str]:
        return [
            *(f"+ {line}" for line in self.added),
            *(f"~ {line}" for line in self.changed),
            *(f"- {line}" for line in self.skipped),
            f"Добавлено: {len(self.added)}, изменено: {len(self.changed)}, "
            f"пропущено: {len(self.skipped)}, без изменений: {self.unchanged}.",
        ]


# --- export ------------------------------------------------------------------------------


def _columns(model: type[Any]) -> list[str]:
    return [
        attr.key
        for attr in inspect(model).column_attrs
        if attr.key != "id" and not labels.is_bookkeeping(model, attr.key)
    ]


def _natural_key(model: type[Any]) -> str:
    return "code" if "code" in _columns(model) else "name"


def _school_names() -> dict[int | None, str]:
    return {
        school_id: name for school_id, name in db.session.execute(select(m.School.id, m.School.short_name))
    }


def export() -> dict[str, Any]:
    """The site's configuration as JSON data (not the rows in the trash)."""
    schools = _school_names()
    catalogs = {
        model.__tablename__: [
            {name: getattr(row, name) for name in _columns(model)}
            for row in db.session.execute(select(model).order_by(model.id)).scalars()
        ]
        for model in m.CATALOGS
    }
    lists = db.session.execute(select(m.ChoiceList).order_by(m.ChoiceList.id)).scalars()
    definitions = db.session.execute(
        select(m.FieldDefinition)
        .options(db.joinedload(m.FieldDefinition.choice_list))
        .order_by(m.FieldDefinition.id)
    ).scalars()
    return {
        "format": FORMAT,
        "version": VERSION,
        "catalogs": catalogs,
        "choice_lists": [
            {"name": row.name, "school": schools.get(row.school_id), "items": list(row.items)}
            for row in lists
        ],
        "fields": [
            {
                **{name: getattr(row, name) for name in FIELD_COLUMNS},
                "school": schools.get(row.school_id),
                "choice_list": row.choice_list.name if row.choice_list is not None else None,
            }
            for row in definitions
        ],
        "saved_views": _export_views(schools),
    }


def _export_views(schools: dict[int | None, str]) -> list[dict[str, Any]]:
    stmt = (
        select(m.SavedView, m.User.email)
        .join(m.User, m.User.id == m.SavedView.user_id)
        .where(m.SavedView.visibility.in_(SHARED))
        .order_by(m.SavedView.id)
    )
    return [
        {
            "endpoint": view.endpoint,
            "name": view.name,
            "visibility": view.visibility,
            "owner": email,
            "school": schools.get(view.school_id),
            "query": view.query,
            "columns": list(view.columns or []),
        }
        for view, email in db.session.execute(stmt)
    ]


# --- import ------------------------------------------------------------------------------


def apply(data: Any, *, dry_run: bool = False) -> Outcome:
    """Apply a configuration read from a file; ConfigError (nothing written) if it does not fit.
    Dry: the same checks and outcome, then nothing kept."""
    _check_header(data)
    outcome = Outcome()
    try:
        with db.session.no_autoflush:
            schools = {
                name: school_id for school_id, name in _school_names().items() if school_id is not None
            }
            for model in m.CATALOGS:
                for index, entry in enumerate(_entries(data.get("catalogs", {}), model.__tablename__)):
                    _apply_catalog(model, entry, f"catalogs.{model.__tablename__}[{index}]", outcome)
            lists = {}
            for index, entry in enumerate(_entries(data, "choice_lists")):
                row = _apply_list(entry, schools, f"choice_lists[{index}]", outcome)
                if row is not None:
                    lists[(row.name, row.school_id)] = row
            for index, entry in enumerate(_entries(data, "fields")):
                _apply_field(entry, schools, lists, f"fields[{index}]", outcome)
            for index, entry in enumerate(_entries(data, "saved_views")):
                _apply_view(entry, schools, f"saved_views[{index}]", outcome)
        db.session.flush()
    except added_fields.FieldValueError as error:
        db.session.rollback()
        raise ConfigError(str(error)) from None
    except ConfigError:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return outcome


def _check_header(data: Any) -> None:
    if not isinstance(data, dict) or data.get("format", FORMAT) != FORMAT:
        raise ConfigError(
            'Это не файл настроек Coop: нужен объект JSON с ключом "format": "coop-site-config".'
        )
    version = data.get("version", VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConfigError("version: нужно целое число от 1.")
    if version > VERSION:
        raise ConfigError(
            f"Файл записан более новой версией Coop (формат {version}, эта версия читает до {VERSION}): "
            "обновите Coop, затем повторите загрузку."
        )


def _entries(data: Any, key: str) -> list[dict[str, Any]]:
    found = data.get(key, []) if isinstance(data, dict) else None
    if not isinstance(found, list) or not all(isinstance(entry, dict) for entry in found):
        raise ConfigError(f"{key}: нужен список объектов.")
    return found


def _typed(entry: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = entry[name]
    fits = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not fits:
        wanted = {str: "текст", int: "целое число", bool: "true или false", list: "список"}[kind]
        raise ConfigError(f"{where}.{name}: нужно {wanted}.")
    return value


def _python_type(model: type[Any], name: str) -> type:
    python = inspect(model).columns[name].type.python_type
    return python if python in (str, int, bool) else str


def _set(row: Any, values: dict[str, Any]) -> list[str]:
    """Set values on row; the names of those that changed."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    return changed


def _record(outcome: Outcome, row: Any, created: bool, changed: list[str], title: str) -> None:
    if created:
        outcome.added.append(title)
    elif changed:
        outcome.changed.append(f"{title}: {', '.join(changed)}")
    else:
        outcome.unchanged += 1


def _apply_catalog(model: type[Any], entry: dict[str, Any], where: str, outcome: Outcome) -> None:
    key = _natural_key(model)
    columns = _columns(model)
    unknown = set(entry) - set(columns)
    if unknown:
        raise ConfigError(f"{where}: неизвестные ключи {', '.join(sorted(unknown))}.")
    if key not in entry:
        raise ConfigError(f"{where}: нет ключа «{key}».")
    values = {name: _typed(entry, name, _python_type(model, name), where) for name in entry}
    stmt = select(model).filter_by(**{key: values[key]}).execution_options(include_deleted=True)
    row = db.session.execute(stmt).scalar_one_or_none()
    created = row is None
    if row is None:
        row = model()
        db.session.add(row)
    changed = _set(row, values)
    _record(outcome, row, created, changed, f"{model.__tablename__} «{values[key]}»")


MISSING = -1  # a school's own row whose school this site does not have: skipped


def _school_id(entry: dict[str, Any], schools: dict[str, int], where: str) -> int | None:
    name = entry.get("school")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.school: нужно краткое наименование школы или null.")
    return schools.get(name, MISSING)


def _apply_list(
    entry: dict[str, Any], schools: dict[str, int], where: str, outcome: Outcome
) -> m.ChoiceList | None:
    for name in ("name", "items"):
        if name not in entry:
            raise ConfigError(f"{where}: нет ключа «{name}».")
    name = _typed(entry, "name", str, where).strip()
    items = _typed(entry, "items", list, where)
    if not name or not items or not all(isinstance(item, str) and item.strip() for item in items):
        raise ConfigError(f"{where}: нужны название и непустой список значений-строк.")
    school_id = _school_id(entry, schools, where)
    if school_id == MISSING:
        outcome.skipped.append(f"список «{name}»: школы «{entry['school']}» нет на сайте")
        return None
    stmt = (
        select(m.ChoiceList).filter_by(name=name, school_id=school_id).execution_options(include_deleted=True)
    )
    row = db.session.execute(stmt).scalar_one_or_none()
    created = row is None
    if row is None:
        row = m.ChoiceList(name=name, school_id=school_id, items=[])
        db.session.add(row)
    changed = _set(row, {"items": [item.strip() for item in items]})
    _record(outcome, row, created, changed, f"список «{name}»")
    return row


def _apply_field(
    entry: dict[str, Any],
    schools: dict[str, int],
    lists: dict[tuple[str, int | None], m.ChoiceList],
    where: str,
    outcome: Outcome,
) -> None:
    unknown = set(entry) - {*FIELD_COLUMNS, "school", "choice_list"}
    if unknown:
        raise ConfigError(f"{where}: неизвестные ключи {', '.join(sorted(unknown))}.")
    for name in ("model", "key", "label", "kind"):
        if name not in entry:
            raise ConfigError(f"{where}: нет ключа «{name}».")
    values = {**FIELD_DEFAULTS, **{name: entry[name] for name in FIELD_COLUMNS if name in entry}}
    values = {name: _typed(values, name, _python_type(m.FieldDefinition, name), where) for name in values}
    if values["model"] not in added_fields.MODELS:
        raise ConfigError(f"{where}.model: одно из {', '.join(added_fields.MODELS)}.")
    if values["kind"] not in added_fields.KINDS:
        raise ConfigError(f"{where}.kind: одно из {', '.join(added_fields.KINDS)}.")
    if values["filled_by"] not in added_fields.FILLERS:
        raise ConfigError(f"{where}.filled_by: одно из {', '.join(added_fields.FILLERS)}.")
    school_id = _school_id(entry, schools, where)
    if school_id == MISSING:
        outcome.skipped.append(
            f"поле {values['model']}.{values['key']}: школы «{entry['school']}» нет на сайте"
        )
        return
    choice_list = None
    if entry.get("choice_list") is not None:
        list_name = entry["choice_list"]
        choice_list = lists.get((list_name, school_id)) or lists.get((list_name, None))
        if choice_list is None:
            choice_list = db.session.execute(
                select(m.ChoiceList).where(
                    m.ChoiceList.name == list_name,
                    m.ChoiceList.school_id.is_(None) | (m.ChoiceList.school_id == school_id),
                )
            ).scalar()
        if choice_list is None:
            raise ConfigError(f"{where}.choice_list: списка «{list_name}» нет ни в файле, ни на сайте.")
    stmt = (
        select(m.FieldDefinition)
        .filter_by(model=values["model"], key=values["key"], school_id=school_id)
        .execution_options(include_deleted=True)
    )
    row = db.session.execute(stmt).scalar_one_or_none()
    created = row is None
    if row is None:
        row = m.FieldDefinition(school_id=school_id)
        db.session.add(row)
    changed = _set(row, values)
    if row.choice_list is not choice_list:
        row.choice_list = choice_list
        changed.append("choice_list")
    try:
        db.session.flush()  # the definition's own check (coop/added_fields.py), named by its place
    except added_fields.FieldValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    _record(outcome, row, created, changed, f"поле {values['model']}.{values['key']}")


def _apply_view(entry: dict[str, Any], schools: dict[str, int], where: str, outcome: Outcome) -> None:
    """A shared saved view, found by its list, name and owner (by e-mail); skipped when
    its owner has no account on this site."""
    unknown = set(entry) - set(VIEW_KEYS)
    if unknown:
        raise ConfigError(f"{where}: неизвестные ключи {', '.join(sorted(unknown))}.")
    for name in ("endpoint", "name", "visibility", "owner"):
        if name not in entry:
            raise ConfigError(f"{where}: нет ключа «{name}».")
    values = {"query": "", "columns": [], **{key: entry[key] for key in VIEW_KEYS if key in entry}}
    for name in ("endpoint", "name", "visibility", "owner", "query"):
        _typed(values, name, str, where)
    columns = _typed(values, "columns", list, where)
    if not all(isinstance(column, str) and column for column in columns):
        raise ConfigError(f"{where}.columns: нужен список имён столбцов.")
    if values["visibility"] not in SHARED:
        raise ConfigError(f"{where}.visibility: одно из {', '.join(SHARED)} (личные виды не переносятся).")
    try:
        name = saved_views.check_name(values["name"])
    except saved_views.SavedViewError as error:
        raise ConfigError(f"{where}.name: {error}") from None
    _check_view_query(values["query"], where)
    email = values["owner"].strip().lower()
    owner = db.session.execute(
        select(m.User).where(m.User.email == email).execution_options(skip_scope=True)
    ).scalar_one_or_none()
    title = f"вид «{name}» списка {values['endpoint']}"
    if owner is None:
        outcome.skipped.append(f"{title}: пользователя {email} нет на сайте")
        return
    if saved_views.list_view(values["endpoint"], owner) is None:
        raise ConfigError(f"{where}.endpoint: списка «{values['endpoint']}» нет, или {email} его не видит.")
    if values["visibility"] not in access.SHARES.get(access.role_of(owner) or "", ()):
        raise ConfigError(f"{where}.visibility: {email} не может показать вид «{values['visibility']}».")
    school = values.get("school")
    school_id = schools.get(school) if isinstance(school, str) else None
    if values["visibility"] == "school" and (school_id is None or school_id != owner.school_id):
        raise ConfigError(f"{where}.school: вид для школы — школа его владельца ({email}).")
    stmt = (
        select(m.SavedView)
        .filter_by(user_id=owner.id, endpoint=values["endpoint"], name=name)
        .execution_options(include_deleted=True, skip_scope=True)
    )
    row = db.session.execute(stmt).scalar_one_or_none()
    created = row is None
    if row is None:
        row = m.SavedView(user_id=owner.id, endpoint=values["endpoint"], name=name)
        db.session.add(row)
    changed = _set(
        row,
        {
            "query": values["query"],
            "columns": columns,
            "visibility": values["visibility"],
            "school_id": owner.school_id,
        },
    )
    _record(outcome, row, created, changed, title)


def _check_view_query(query: str, where: str) -> None:
    """A saved view's list arguments: only those a saved view keeps (no other argument)."""
    if len(query) > saved_views.QUERY_MAX:
        raise ConfigError(f"{where}.query: длиннее {saved_views.QUERY_MAX} символов.")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in VIEW_ARGS and not saved_views.FILTER_ARG.fullmatch(key):
            raise ConfigError(f"{where}.query: неизвестный параметр «{key[:40]}».")
        if len(value) > saved_views.VALUE_MAX:
            raise ConfigError(f"{where}.query: значение «{key[:40]}» слишком длинное.")
