"""The default catalogs every install starts with, and filling the empty ones.

The catalogs (``models.CATALOGS``: kinds of partners, kinds and levels of
events, audiences, responsible positions, education levels, ФГОС results) are
tables an admin edits through the web. Each is seeded with the sensible Russian
defaults below, one table per catalog, in the order they are offered.

``fill_empty_catalogs()`` runs after every migration upgrade (``migrations/env.py``)
and before the demo and benchmark data. It writes a catalog's defaults only
while the catalog has no row at all, a trashed one included: whatever an admin
changed, added or deleted is never overwritten nor added again. It writes with
SQLAlchemy Core on the connection it is given, so it needs no ORM session and no
signed-in user.

The data is plain Python; the filler reads the tables from ``coop.models``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, inspect, select

from .. import models as m

# ---------------------------------------------------------------------------
# The default catalogs
# ---------------------------------------------------------------------------

PARTNER_KINDS: tuple[str, ...] = (
    "Вуз",
    "Колледж / техникум",
    "Общеобразовательная организация",
    "Организация дополнительного образования",
    "Организация ДПО",
    "Предприятие",
    "Музей / учреждение культуры",
    "Библиотека",
    "Учреждение спорта",
    "Учреждение здравоохранения",
    "Орган власти / государственное учреждение",
    "НКО",
    "Другое",
)


EVENT_KINDS: tuple[str, ...] = (
    "Профориентация",
    "Анкетирование",
    "Выставка",
    "День открытых дверей",
    "Родительское собрание",
    "Олимпиада",
    "Конкурс",
    "Интеллектуальная игра",
    "Конференция",
    "Форум",
    "Фестиваль",
    "Соревнования",
    "Мастер-класс",
    "Публикация",
    "Профессиональные пробы",
    "Методическое мероприятие",
    "Курсовая подготовка",
    "Музейный урок",
    "Квест",
    "Экскурсия",
    "Другое",
)


EVENT_LEVELS: tuple[str, ...] = (
    "Школьный",
    "Муниципальный",
    "Региональный",
    "Всероссийский",
    "Международный",
)


AUDIENCES: tuple[tuple[str, str], ...] = (
    ("students", "Обучающиеся"),
    ("teachers", "Педагоги"),
    ("parents", "Родители (законные представители)"),
)


EDUCATION_LEVELS: tuple[tuple[str, str, str], ...] = (
    ("NOO", "НОО", "1–4"),
    ("OOO", "ООО", "5–9"),
    ("SOO", "СОО", "10–11"),
)


# (code, group, subgroup, title). Личностные and Предметные have no subgroup.
FGOS_RESULTS: tuple[tuple[str, str, str, str], ...] = (
    ("L-1", "Личностные", "", "Готовность к саморазвитию и самообразованию"),
    (
        "L-2",
        "Личностные",
        "",
        (
            "Осознанный выбор и построение дальнейшей индивидуальной траектории "
            "образования на базе ориентировки в мире профессий"
        ),
    ),
    (
        "L-3",
        "Личностные",
        "",
        (
            "Коммуникативная компетентность в общении и сотрудничестве со "
            "сверстниками, детьми старшего и младшего возраста, взрослыми"
        ),
    ),
    (
        "L-4",
        "Личностные",
        "",
        (
            "Российская гражданская идентичность: патриотизм, уважение к "
            "Отечеству, знание истории и культуры своего края"
        ),
    ),
    (
        "M-P-1",
        "Метапредметные",
        "Познавательные УУД",
        ("Умение определять понятия, создавать обобщения, устанавливать аналогии, классифицировать"),
    ),
    (
        "M-P-2",
        "Метапредметные",
        "Познавательные УУД",
        (
            "Умение устанавливать причинно-следственные связи, строить логическое "
            "рассуждение, умозаключение и делать выводы"
        ),
    ),
    ("M-P-3", "Метапредметные", "Познавательные УУД", "Смысловое чтение"),
    (
        "M-P-4",
        "Метапредметные",
        "Познавательные УУД",
        (
            "Формирование и развитие компетентности в области использования "
            "информационно-коммуникационных технологий (ИКТ-компетенции)"
        ),
    ),
    (
        "M-R-1",
        "Метапредметные",
        "Регулятивные УУД",
        (
            "Умение самостоятельно определять цели своего обучения, ставить и "
            "формулировать для себя новые задачи"
        ),
    ),
    (
        "M-R-2",
        "Метапредметные",
        "Регулятивные УУД",
        "Умение планировать пути достижения целей",
    ),
    (
        "M-R-3",
        "Метапредметные",
        "Регулятивные УУД",
        (
            "Умение соотносить свои действия с планируемыми результатами, "
            "осуществлять контроль своей деятельности"
        ),
    ),
    (
        "M-R-4",
        "Метапредметные",
        "Регулятивные УУД",
        ("Владение основами самоконтроля, самооценки, принятия решений и осуществления осознанного выбора"),
    ),
    (
        "M-K-1",
        "Метапредметные",
        "Коммуникативные УУД",
        "Готовность к речевому взаимодействию и взаимопониманию",
    ),
    (
        "M-K-2",
        "Метапредметные",
        "Коммуникативные УУД",
        "Умение организовывать учебное сотрудничество и совместную деятельность",
    ),
    (
        "M-K-3",
        "Метапредметные",
        "Коммуникативные УУД",
        ("Умение осознанно использовать речевые средства в соответствии с задачей коммуникации"),
    ),
    (
        "M-K-4",
        "Метапредметные",
        "Коммуникативные УУД",
        "Способность пользоваться языком в различных сферах и ситуациях общения",
    ),
    (
        "P-1",
        "Предметные",
        "",
        (
            "Освоение умений, специфических для предметной области, видов "
            "деятельности по получению нового знания, его преобразованию и "
            "применению в учебных, учебно-проектных и социально-проектных ситуациях"
        ),
    ),
    (
        "P-2",
        "Предметные",
        "",
        (
            "Формирование научного типа мышления, научных представлений о "
            "ключевых теориях, типах и видах отношений"
        ),
    ),
    (
        "P-3",
        "Предметные",
        "",
        "Владение научной терминологией, ключевыми понятиями, методами и приёмами",
    ),
)


# Responsible positions as network plans write them: the seed plan of
# shared/seeds/004_7c29a7336e48ba2a.txt names all of them but the head of the
# history teachers (the demo's second school names that one), so that an
# imported plan finds its positions in the catalog.
POSITIONS: tuple[str, ...] = (
    "Заместители директора по УВР",
    "Заместитель директора по ВР",
    "Заместитель директора по УВР",
    "Классные руководители",
    "Научный консультант",
    "Ответственный за профориентацию",
    "Педагог-психолог",
    "Руководители ШМО",
    "Руководители ШМО учителей начальных классов",
    "Руководители ШМО учителей рус. языка",
    "Руководитель ШМО учителей иностранного языка",
    "Руководитель ШМО учителей истории и обществознания",
    "Руководитель ШМО учителей математики",
    "Руководитель ШМО учителей математики, физики, технологии, информатики",
    "Руководитель ШМО учителей нач. классов",
    "Руководитель ШМО учителей начальных классов",
    "Руководитель ШМО учителей рус. языка",
    "Учителя-предметники",
)

# ---------------------------------------------------------------------------
# The rows of each catalog, and the filler
# ---------------------------------------------------------------------------

# Each catalog's rows without the columns every row gets alike (order, tracking).
DEFAULTS: dict[type, tuple[dict[str, Any], ...]] = {
    m.PartnerKind: tuple({"name": name} for name in PARTNER_KINDS),
    m.EventKind: tuple({"name": name} for name in EVENT_KINDS),
    m.EventLevel: tuple({"name": name} for name in EVENT_LEVELS),
    m.Audience: tuple({"code": code, "name": name} for code, name in AUDIENCES),
    m.Position: tuple({"name": name} for name in POSITIONS),
    m.EducationLevel: tuple(
        {"code": code, "name": name, "grades": grades} for code, name, grades in EDUCATION_LEVELS
    ),
    m.FgosResult: tuple(
        {"code": code, "group": group, "subgroup": subgroup, "title": title}
        for code, group, subgroup, title in FGOS_RESULTS
    ),
}
assert tuple(DEFAULTS) == m.CATALOGS, "every catalog has its defaults, in models.CATALOGS order"


def default_rows(model: type, now: dt.datetime) -> list[dict[str, Any]]:
    """The catalog's default rows as inserted: offered, in order, version 1, created `now`."""
    stamp = {"is_active": True, "created_at": now, "updated_at": now, "version": 1}
    return [{**row, "sort_order": order, **stamp} for order, row in enumerate(DEFAULTS[model])]


def fill_empty_catalogs(connection: Connection, now: dt.datetime | None = None) -> dict[str, int]:
    """Insert the defaults of every catalog that has no row at all; the rows added, by table.

    A catalog the database does not have yet (an older schema) is left alone. The
    caller commits (the migrations' transaction, or the session's).
    """
    now = now or m.utcnow()
    present = set(inspect(connection).get_table_names())
    filled: dict[str, int] = {}
    for model in m.CATALOGS:
        table = cast(Table, model.__table__)
        if table.name not in present or connection.execute(select(table.c.id).limit(1)).first():
            continue
        rows = default_rows(model, now)
        connection.execute(insert(table), rows)
        filled[table.name] = len(rows)
    return filled


def untouched_defaults(connection: Connection) -> dict[str, int]:
    """The catalogs that hold their defaults exactly as filled, by table: their row counts.

    A fresh install holds these and nothing else; a restore may replace them
    without being forced (``coop.backup``).
    """
    present = set(inspect(connection).get_table_names())
    untouched: dict[str, int] = {}
    for model in m.CATALOGS:
        table = cast(Table, model.__table__)
        if table.name not in present:
            continue
        expected = default_rows(model, m.utcnow())
        keys = [key for key in expected[0] if key not in ("created_at", "updated_at")] + ["deleted_at"]
        rows = connection.execute(select(*(table.c[key] for key in keys)).order_by(table.c.id)).mappings()
        if [dict(row) for row in rows] == [{key: row.get(key) for key in keys} for row in expected]:
            untouched[table.name] = len(expected)
    return untouched
