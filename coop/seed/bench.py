"""Regional benchmark data: a municipality-sized region, generated from a seed.

``generate()`` fills the database with about a thousand schools, their partners,
agreements, five academic years of network plans with execution records,
seminars, limitations, remarks and users of every role. The same arguments
(seed and ``today`` included) give the same rows on SQLite and PostgreSQL.

Names, plan lines and timings are built from the demo catalogs
(``coop.seed.demo_data``) and read with ``coop.timing`` exactly as an imported plan
would be, so the benchmark pages render the same kinds of text as real use.
Rows go in with SQLAlchemy Core ``insert()`` executemany, a few thousand rows
and one commit per chunk, with ids assigned here (the parents' ids are needed
for the children's rows before they are written).

Every generated user has the password ``BENCH_PASSWORD``; e-mails are
``admin1@…``, ``coordinator1@…``, ``school<N>.<K>@…``, ``partner<N>.<K>@…`` at
``BENCH_DOMAIN``, N being the school's or partner's number in generation order.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, func, insert, select, text

from .. import models as m
from .. import search, summary
from ..extensions import db
from ..timing import academic_year_of, months_from_mask
from . import catalogs
from . import demo_data as data

BENCH_DOMAIN = "bench.coop.example"
BENCH_PASSWORD = "bench-password"
DEFAULTS: dict[str, int] = {
    "schools": 1000,
    "partners": 3000,
    "agreements": 20000,
    "events": 300000,
    "years": 5,
    "users": 10000,
    "seed": 2026,
}
CHUNK_ROWS = 5000
COPY_CHUNK_ROWS = 100_000  # PostgreSQL's COPY: a chunk per commit


class BenchDataError(ValueError):
    """Arguments or a database the generator cannot work with; the message is for a person."""


@dataclass
class BenchStats:
    """Rows written per table and the time it took."""

    rows: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


# --- the region: towns, schools, partners ---------------------------------------------

# Towns of Kuzbass with their telephone codes, weighted by how many schools they have.
TOWNS: tuple[tuple[str, str, int], ...] = (
    ("Новокузнецк", "3843", 28),
    ("Кемерово", "3842", 28),
    ("Прокопьевск", "3846", 10),
    ("Междуреченск", "38475", 6),
    ("Ленинск-Кузнецкий", "38456", 5),
    ("Киселёвск", "38464", 5),
    ("Юрга", "38451", 4),
    ("Белово", "38452", 4),
    ("Анжеро-Судженск", "38453", 4),
    ("Берёзовский", "38445", 3),
    ("Осинники", "38471", 3),
    ("Мыски", "38474", 2),
    ("Топки", "38454", 2),
    ("Мариинск", "38443", 2),
    ("Полысаево", "38456", 2),
    ("Калтан", "38472", 2),
    ("Таштагол", "38473", 2),
    ("Гурьевск", "38463", 2),
    ("Тайга", "38448", 1),
    ("Салаир", "38463", 1),
)
STREETS = (
    "ул. Ленина",
    "ул. Кирова",
    "пр. Мира",
    "ул. Советская",
    "ул. Металлургов",
    "ул. Шахтёров",
    "ул. Строителей",
    "ул. Пушкина",
    "ул. Гагарина",
    "ул. Молодёжная",
    "ул. Школьная",
    "ул. Юбилейная",
    "ул. Транспортная",
    "пр. Октябрьский",
    "ул. Садовая",
)
SCHOOL_OWNERS = (
    ("Муниципальное бюджетное общеобразовательное учреждение", "МБОУ", 75),
    ("Муниципальное автономное общеобразовательное учреждение", "МАОУ", 15),
    ("Муниципальное казённое общеобразовательное учреждение", "МКОУ", 10),
)
SCHOOL_TYPES = (
    ("Средняя общеобразовательная школа", "СОШ", 70),
    ("Средняя общеобразовательная школа с углублённым изучением отдельных предметов", "СОШ с УИОП", 4),
    ("Основная общеобразовательная школа", "ООШ", 8),
    ("Гимназия", "Гимназия", 8),
    ("Лицей", "Лицей", 7),
    ("Начальная общеобразовательная школа", "НОШ", 3),
)
SURNAMES = (
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Васильев", "Васильева"),
    ("Петров", "Петрова"),
    ("Соколов", "Соколова"),
    ("Михайлов", "Михайлова"),
    ("Новиков", "Новикова"),
    ("Фёдоров", "Фёдорова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"),
    ("Лебедев", "Лебедева"),
    ("Семёнов", "Семёнова"),
    ("Егоров", "Егорова"),
    ("Павлов", "Павлова"),
    ("Козлов", "Козлова"),
    ("Степанов", "Степанова"),
    ("Николаев", "Николаева"),
    ("Орлов", "Орлова"),
    ("Андреев", "Андреева"),
    ("Макаров", "Макарова"),
    ("Захаров", "Захарова"),
    ("Зайцев", "Зайцева"),
    ("Соловьёв", "Соловьёва"),
    ("Борисов", "Борисова"),
    ("Белоусов", "Белоусова"),
    ("Шестаков", "Шестакова"),
    ("Гончаров", "Гончарова"),
)
MALE_NAMES = ("Александр", "Алексей", "Андрей", "Владимир", "Дмитрий", "Евгений", "Игорь", "Сергей", "Олег")
FEMALE_NAMES = ("Анна", "Елена", "Ирина", "Марина", "Наталья", "Ольга", "Светлана", "Татьяна", "Юлия")
PATRONYMICS = (
    ("Александрович", "Александровна"),
    ("Викторович", "Викторовна"),
    ("Владимирович", "Владимировна"),
    ("Иванович", "Ивановна"),
    ("Николаевич", "Николаевна"),
    ("Петрович", "Петровна"),
    ("Сергеевич", "Сергеевна"),
    ("Юрьевич", "Юрьевна"),
)
WORDS = (
    "Меридиан",
    "Исток",
    "Горизонт",
    "Созвездие",
    "Радуга",
    "Вектор",
    "Импульс",
    "Сибиряк",
    "Пламя",
    "Надежда",
    "Росток",
    "Прометей",
    "Парус",
    "Олимп",
    "Юность",
    "Энергия",
)
ENTERPRISE_STEMS = ("Кузбасс", "Сиб", "Том", "Кузнецк", "Запсиб", "Кондома", "Мрас", "Бачат", "Кемеров")
ENTERPRISE_ENDINGS = ("уголь", "энерго", "строй", "транс", "маш", "хим", "металл", "агро", "пром", "связь")
MINES = ("Распадская", "Есаульская", "Юбилейная", "Заречная", "Талдинская", "Полосухинская", "Абашевская")
UNIVERSITIES = (
    ("Кемеровский государственный университет", "КемГУ"),
    ("Кузбасский государственный технический университет имени Т. Ф. Горбачёва", "КузГТУ"),
    ("Сибирский государственный индустриальный университет", "СибГИУ"),
    ("Кузбасский государственный аграрный университет имени В. Н. Полецкова", "Кузбасский ГАУ"),
    ("Кемеровский государственный медицинский университет", "КемГМУ"),
    ("Кемеровский государственный институт культуры", "КемГИК"),
)


# Kinds of partner: «kind | weight | sphere», then «legal form | names; …» lines;
# in a name «{n}» is a number, «{w}» a word of WORDS, «{u}» a university,
# «{e}» an enterprise's name, «{mine}» a mine's.
_PARTNER_TABLE = """
Вуз | 3 | educational
  ФГБОУ ВО | Филиал «{u}»; Институт (филиал) «{u}»
Колледж / техникум | 8 | educational
  ГПОУ | Политехнический техникум; Транспортно-технологический техникум; Горнотехнический техникум
  ГПОУ | Педагогический колледж; Медицинский колледж; Строительный техникум; Колледж искусств
  ГПОУ | Техникум индустрии питания и сервиса; Аграрный техникум; Техникум информационных технологий
Общеобразовательная организация | 2 | educational
  ЧОУ | Школа «{w}»; Православная гимназия; Школа-интернат № {n}
Организация дополнительного образования | 15 | educational
  МБУ ДО | Дом детского творчества № {n}; Центр детского (юношеского) технического творчества «{w}»
  МБУ ДО | Детско-юношеская спортивная школа № {n}; Станция юных натуралистов; Детская школа искусств № {n}
  МБУ ДО | Центр дополнительного образования детей «{w}»; Дворец творчества детей и молодёжи
  МБУ ДО | Детский технопарк «Кванториум»
Организация ДПО | 3 | educational
  МАУ ДПО | Институт повышения квалификации; Научно-методический центр; Информационно-методический центр
Предприятие | 25 | production
  ООО | {e}; {e}сервис; Торговый дом «{w}»
  АО | {e}; Шахта «{mine}»; Разрез «{mine}»; Завод «{w}»
  ПАО | {e}
Музей / учреждение культуры | 9 | social
  МБУК | Краеведческий музей; Художественный музей; Драматический театр; Театр кукол «{w}»
  МБУК | Дворец культуры «{w}»; Выставочный зал; Литературно-мемориальный музей; Музей боевой славы
Библиотека | 6 | social
  МБУК | Центральная городская библиотека; Детская библиотека № {n}; Библиотека семейного чтения
  МБУК | Централизованная библиотечная система
Учреждение спорта | 5 | social
  МАУ | Спортивная школа олимпийского резерва № {n}; Физкультурно-оздоровительный комплекс «{w}»
  МАУ | Стадион «{w}»; Ледовый дворец «{w}»
Учреждение здравоохранения | 4 | social
  ГАУЗ | Городская клиническая больница № {n}; Детская городская поликлиника № {n}
  ГАУЗ | Центр медицинской профилактики
Орган власти / государственное учреждение | 5 | social
  ГКУ | Центр занятости населения; Пожарно-спасательная часть № {n}; Центр «Молодёжь»
  ГКУ | Управление социальной защиты населения
НКО | 8 | social
  АНО | Волонтёрский центр «{w}»; Поисковый отряд «{w}»; Экологический клуб «{w}»
  АНО | Клуб юных журналистов «{w}»
  РОО | Совет ветеранов; Союз молодёжи «{w}»
Другое | 2 | social
  ООО | Редакция газеты «{w}»; Телерадиокомпания «{w}»
"""


@dataclass(frozen=True)
class PartnerKind:
    weight: int
    sphere: str
    names: tuple[tuple[str, str], ...]  # (legal form, name pattern)


def _read_partner_kinds(table: str) -> dict[str, PartnerKind]:
    kinds: dict[str, tuple[int, str, list[tuple[str, str]]]] = {}
    kind = ""
    for row in filter(str.strip, table.splitlines()):
        cells = [cell.strip() for cell in row.split("|")]
        if not row.startswith(" "):
            kind = cells[0]
            kinds[kind] = (int(cells[1]), cells[2], [])
        else:
            kinds[kind][2].extend((cells[0], name.strip()) for name in cells[1].split(";"))
    return {
        kind: PartnerKind(weight, sphere, tuple(names)) for kind, (weight, sphere, names) in kinds.items()
    }


PARTNER_KINDS = _read_partner_kinds(_PARTNER_TABLE)

RESOURCES: dict[str, tuple[str, ...]] = {
    "educational": (
        "Лаборатории и мастерские для практических занятий",
        "Преподаватели для профориентационных встреч",
        "Олимпиады и конкурсы для школьников",
        "Курсы повышения квалификации педагогов",
        "Дни открытых дверей",
    ),
    "production": (
        "Экскурсии на производство",
        "Наставники из числа инженеров и рабочих",
        "Площадка для профессиональных проб",
        "Кейсы предприятия для проектной деятельности",
    ),
    "social": (
        "Экспозиции и фонды для занятий вне урока",
        "Специалисты для лекций и бесед",
        "Площадка для волонтёрских и социальных проектов",
        "Помещения для массовых мероприятий",
    ),
}

# --- plan lines -------------------------------------------------------------------------

# The demo plan's lines, by the kind of partner that runs them.
_DEMO_PARTNERS = {partner.kind: partner for partner in data.SCHOOL_31.partners}
_POSITIONS = {
    "проф": "Ответственный за профориентацию",
    "псих": "Педагог-психолог",
    "кл": "Классные руководители",
    "пред": "Учителя-предметники",
    "УВР": "Заместитель директора по УВР",
    "ВР": "Заместитель директора по ВР",
}
# Plan lines for the kinds of partner the demo plan has none of, one a line:
# title | timing | responsible | audience | grades | kind | level; «{p}» is the partner.
_OTHER_LINES = """
Предприятие
Экскурсия на производство {p} | октябрь, март | проф | students | 8-11 | Экскурсия |
Профессиональные пробы на базе {p} | ноябрь - апрель | проф, кл | students | 9-11 | Профессиональные пробы |
Встреча с инженерами: «Профессии будущего» | февраль | проф | students | 7-9 | Профориентация |
Конкурс проектов «Инженеры Кузбасса» | в течение года | УВР, пред | students | 8-11 | Конкурс | Муниципальный
Родительское собрание с участием специалистов {p} | апрель | проф, кл | parents | | Родительское собрание |
Стажировка педагогов на предприятии | июнь | УВР | teachers | | Методическое мероприятие |
Музей / учреждение культуры
Музейный урок «История родного края» | в течение года | пред | students | 5-7 | Музейный урок |
Экскурсия «{p}: прошлое и настоящее» | сентябрь, май | кл | students | 1-4 | Экскурсия |
Квест по экспозиции | ноябрь | ВР, кл | students | 5-6 | Квест |
Выставка творческих работ обучающихся | декабрь - январь | ВР | students | 1-11 | Выставка |
Конкурс исследовательских работ по краеведению | март | УВР, пред | students | 7-11 | Конкурс | Муниципальный
Библиотека
Библиотечный урок «Книги о Кузбассе» | октябрь | пред | students | 3-5 | Другое |
Конкурс чтецов «Живая классика» | февраль - март | пред | students | 5-11 | Конкурс | Муниципальный
Неделя детской книги | март | ВР, кл | students | 1-4 | Фестиваль |
Интеллектуальная игра «Знатоки книги» | ноябрь | пред | students | 6-8 | Интеллектуальная игра |
Учреждение спорта
Соревнования «Президентские состязания» | апрель | ВР | students | 5-11 | Соревнования | Муниципальный
Выполнение нормативов ГТО | октябрь, апрель | ВР, кл | students | 5-11 | Соревнования |
Спортивный праздник «Папа, мама, я — спортивная семья» | февраль | ВР | parents | | Фестиваль |
Мастер-класс тренеров спортивной школы | ноябрь | кл | students | 3-6 | Мастер-класс |
Учреждение здравоохранения
Профориентационная встреча «Профессия — врач» | ноябрь | проф | students | 9-11 | Профориентация |
Беседа «Здоровый образ жизни» | I полугодие | кл, псих | students | 7-9 | Другое |
Родительское собрание «Здоровье школьника» | сентябрь | кл | parents | | Родительское собрание |
Обучение педагогов первой помощи | январь | УВР | teachers | | Курсовая подготовка |
Орган власти / государственное учреждение
День профориентации в центре занятости | март | проф | students | 8-9 | Профориентация |
Профилактическая беседа «Безопасная дорога» | сентябрь, май | ВР, кл | students | 1-4 | Другое |
Анкетирование «Мой профессиональный выбор» | октябрь | проф, псих | students | 9-11 | Анкетирование |
Правовой квест «Я — гражданин» | декабрь | ВР | students | 8-10 | Квест |
НКО
Волонтёрская акция «Чистый город» | апрель - май | ВР, кл | students | 7-11 | Другое |
Форум активной молодёжи | ноябрь | ВР | students | 9-11 | Форум | Региональный
Поисковая экспедиция «Память» | июнь | ВР | students | 8-11 | Другое |
Фестиваль детских общественных объединений | II полугодие | ВР | students | 5-11 | Фестиваль | Муниципальный
Общеобразовательная организация
Интеллектуальная игра «Что? Где? Когда?» | декабрь | пред | students | 7-9 | Интеллектуальная игра |
Сетевая олимпиада по математике | 2 четверть | пред | students | 5-8 | Олимпиада |
Открытые уроки: обмен опытом педагогов | в течение года | УВР | teachers | | Методическое мероприятие |
Другое
Мастер-класс по медиаграмотности | октябрь | пред | students | 7-11 | Мастер-класс |
Публикация материалов юнкоров | в течение года | ВР | students | 5-11 | Публикация |
"""


def _read_lines(table: str) -> dict[str, tuple[data.DemoEvent, ...]]:
    lines: dict[str, list[data.DemoEvent]] = {}
    kind = ""
    for row in filter(None, table.splitlines()):
        if "|" not in row:
            kind = row
            continue
        title, timing, responsible, audience, grades, event_kind, level = (c.strip() for c in row.split("|"))
        positions = tuple(_POSITIONS[p.strip()] for p in responsible.split(","))
        number = len(lines.setdefault(kind, [])) + 1
        lines[kind].append(
            data.DemoEvent(number, title, timing, positions, audience, grades, event_kind, level)
        )
    return {kind: tuple(events) for kind, events in lines.items()}


def _demo_lines(partner: data.DemoPartner) -> tuple[data.DemoEvent, ...]:
    """The demo plan's lines of a partner, its own name made a placeholder."""
    return tuple(replace(e, title=e.title.replace(partner.short_name, "{p}")) for e in partner.events)


PLAN_LINES: dict[str, tuple[data.DemoEvent, ...]] = {
    **_read_lines(_OTHER_LINES),
    **{kind: _demo_lines(partner) for kind, partner in _DEMO_PARTNERS.items()},
}
assert set(PLAN_LINES) == set(catalogs.PARTNER_KINDS) == set(PARTNER_KINDS)
assert set(_POSITIONS.values()) <= set(catalogs.POSITIONS)

# Timings as people also write them; some dated, and one that is never read.
OTHER_TIMINGS = ("I полугодие", "II полугодие", "2 четверть", "сентябрь - октябрь", "по согласованию")

PROGRAMME_TITLES = (
    "Образовательное сотрудничество школы и организаций-партнёров как ресурс достижения результатов ФГОС",
    "Сетевое взаимодействие в профориентации обучающихся",
    "Школа — территория партнёрства: программа сотрудничества",
    "Ресурсы производственной и социальной сферы для достижения образовательных результатов",
)
SEMINAR_TOPICS: dict[str, tuple[str, ...]] = {
    "existing": (
        "Какие формы взаимодействия со сторонними организациями уже есть у школы",
        "Анализ существующих связей школы с организациями города",
    ),
    "design": (
        "Проектирование сотрудничества: согласованные образовательные результаты",
        "Сетевой план на учебный год: что и с кем",
    ),
    "normative": (
        "Положение о сетевом взаимодействии и форма соглашения",
        "Локальные акты школы о сотрудничестве с партнёрами",
    ),
    "results": (
        "Итоги года: что дало сотрудничество ученикам",
        "Результаты сетевого плана и планы на будущее",
    ),
}
LIMITATIONS = (
    ("Недостаточно мест практического применения знаний", "Нет условий для практики вне урока"),
    ("Низкий уровень сформированности коммуникативных УУД", "Выявлено на анализе результатов ВПР"),
    ("Нет оборудования для занятий робототехникой", "Кабинет технологии не оснащён"),
    ("Мало возможностей для профессиональных проб", "Нет предприятий рядом со школой"),
    ("Недостаток педагогов дополнительного образования", "Вакансии не закрыты два года"),
)
REMARKS = (
    "Уточните ожидаемые результаты для родителей: как они будут измеряться?",
    "В сетевом плане нет мероприятий для учителей начальных классов.",
    "Срок действия соглашения истекает до окончания программы.",
    "Не указаны ответственные за мероприятие.",
    "Отчёт о проведении мероприятия не содержит числа участников.",
)
RESPONSES = ("Исправлено.", "Уточним на ближайшем методическом совете.", "")


# --- the generator ----------------------------------------------------------------------


def generate(
    schools: int = DEFAULTS["schools"],
    partners: int = DEFAULTS["partners"],
    agreements: int = DEFAULTS["agreements"],
    events: int = DEFAULTS["events"],
    years: int = DEFAULTS["years"],
    users: int = DEFAULTS["users"],
    seed: int = DEFAULTS["seed"],
    progress: Callable[[int], None] | None = None,
    today: dt.date | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> BenchStats:
    """Fill the database with a region; `progress(n)` is told of every n main rows
    (schools, partners, agreements, plan lines, users) written, in chunks."""
    _check(schools, partners, agreements, events, years, users)
    if db.session.execute(select(m.User.id).where(m.User.email.like(f"%@{BENCH_DOMAIN}")).limit(1)).first():
        raise BenchDataError("Данные для нагрузочного теста уже загружены в эту базу данных.")
    started = time.monotonic()
    catalogs.fill_empty_catalogs(db.session.connection())
    db.session.commit()
    generator = _Generator(seed, today or dt.date.today(), years)
    db.session.commit()  # end the session's read: the writer below has its own connection
    with db.engine.connect() as conn:
        writer = _Writer(conn, chunk_rows, progress or (lambda n: None))
        writer.prepare()
        try:
            generator.run(writer, schools, partners, agreements, events, users)
            writer.finish()
        except BaseException:
            writer.restore()  # the indexes back even after a failure
            raise
        if not writer.copy:
            search.rebuild(conn)  # the rows went in by Core, past the ORM's flush
        conn.commit()
    # Written past the ORM in bulk: the kept figures are counted once, at the end.
    summary.rebuild(db.session)
    db.session.commit()
    return BenchStats(writer.rows, time.monotonic() - started)


SCALED = ("partners", "agreements", "events", "users")


def scaled_sizes(sizes: dict[str, Any]) -> dict[str, Any]:
    """`sizes` with those left out (None) in the proportion of DEFAULTS to its schools."""
    schools = sizes.get("schools") or DEFAULTS["schools"]
    return {
        **sizes,
        **{
            name: DEFAULTS[name] * schools // DEFAULTS["schools"]
            for name in SCALED
            if sizes.get(name) is None
        },
    }


def main_rows(schools: int, partners: int, agreements: int, events: int, users: int) -> int:
    """What `progress` counts up to: the main rows, without their children."""
    return schools + partners + agreements + events + users


def _check(schools: int, partners: int, agreements: int, events: int, years: int, users: int) -> None:
    if schools < 1 or partners < 1:
        raise BenchDataError("Нужна хотя бы одна школа и хотя бы один партнёр.")
    if not schools <= agreements <= schools * partners:
        raise BenchDataError(
            "Соглашений должно быть не меньше, чем школ (у каждой школы есть партнёр), "
            "и не больше, чем пар «школа — партнёр»."
        )
    if events < 0 or users < 0:
        raise BenchDataError("Число мероприятий и пользователей не может быть отрицательным.")
    if not 1 <= years <= 10:
        raise BenchDataError("Число учебных лет — от 1 до 10.")


class _Writer:
    """Buffers rows per table and writes them, parents first, a chunk per commit.

    SQLite: ``insert()`` executemany. PostgreSQL: ``COPY … FROM STDIN`` (psycopg's
    ``cursor.copy``), into tables whose secondary indexes and search vectors are put back
    once, at the end (``prepare``/``finish``): building an index over three million rows
    is cheaper than keeping it in step row by row."""

    def __init__(self, conn: Connection, chunk_rows: int, progress: Callable[[int], None]) -> None:
        self.conn, self.progress = conn, progress
        self.copy = conn.dialect.name == "postgresql"
        self.chunk_rows = max(chunk_rows, COPY_CHUNK_ROWS) if self.copy else chunk_rows
        self.buffers: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self.buffered = self.main = 0
        self.rows: Counter[str] = Counter()
        self.dropped_indexes: list[str] = []  # their definitions, to create again
        self.replica = False  # PostgreSQL: foreign keys unchecked during the load
        # Ids are assigned here, after whatever the tables already hold.
        self.next_ids = {
            table: (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
            for table in db.metadata.sorted_tables
            if "id" in table.c
        }
        if conn.dialect.name == "sqlite":
            # With WAL, NORMAL is still safe from corruption; it saves an fsync per chunk.
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")

    def prepare(self) -> None:
        """PostgreSQL: drop the secondary indexes of the tables the generator fills, the
        search's GIN indexes too (not the keys and unique constraints: they check the rows;
        the search vectors, generated columns, are computed as each row goes in)."""
        if not self.copy:
            return
        names = [table.name for table in db.metadata.sorted_tables]
        found = self.conn.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE n.nspname = current_schema() AND t.relname = ANY(:names) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            ),
            {"names": names},
        ).all()
        for name, definition in found:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
            self.dropped_indexes.append(definition)
        # The foreign keys' checks are triggers fired per row; a superuser may skip them for the
        # load (the generator writes parents first; tests/test_bench_data.py checks the links).
        self.replica = bool(
            self.conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar()
        )
        if self.replica:
            self.conn.exec_driver_sql("SET session_replication_role = replica")
        self.conn.commit()

    def new_id(self, model: type[Any]) -> int:
        table = model.__table__
        self.next_ids[table] += 1
        return self.next_ids[table] - 1

    def add(self, model_or_table: Any, row: dict[str, Any], main: bool = False) -> None:
        table = getattr(model_or_table, "__table__", model_or_table)
        self.buffers[table].append(row)
        self.buffered += 1
        self.main += main
        if self.buffered >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        for table in db.metadata.sorted_tables:  # parents before children
            rows = self.buffers.pop(table, None)
            if rows:
                if self.copy:
                    self._copy(table, rows)
                else:
                    self.conn.execute(insert(table), rows)
                self.rows[table.name] += len(rows)
        self.conn.commit()
        self.buffered = 0
        if self.main:
            self.progress(self.main)
            self.main = 0

    def _copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        values = itemgetter(*columns)
        # What insert() would fill in from the columns' Python-side defaults (a version: 1).
        defaults = {
            column.name: _copied(_default_value(column.default))
            for column in table.c
            if column.name not in rows[0] and column.default is not None and not column.default.is_sequence
        }
        tail = tuple(defaults.values())
        names = ", ".join(f'"{name}"' for name in [*columns, *defaults])
        as_json = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
        if not self.conn.in_transaction():
            self.conn.begin()  # the COPY goes in the transaction this connection commits
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            write = copy.write_row
            if not as_json:
                for row in rows:
                    write(values(row) + tail)
                return
            for row in rows:
                line = list(values(row))
                for i in as_json:
                    line[i] = json.dumps(line[i]) if line[i] else "{}"
                write((*line, *tail))

    def finish(self) -> None:
        self.flush()
        if self.conn.dialect.name == "postgresql":
            # Ids were given explicitly: move each sequence past them.
            for table in self.next_ids:
                self.conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                    )
                )
        self.conn.commit()
        self.restore()
        # Fresh statistics, or the planner guesses on a million-row table; on PostgreSQL
        # a VACUUM too, whose visibility map lets index-only scans skip the table
        # (autovacuum may be off, or not yet round). VACUUM runs outside a transaction.
        if self.conn.dialect.name == "postgresql":
            self.conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            self.conn.exec_driver_sql("ANALYZE")
            self.conn.exec_driver_sql("PRAGMA synchronous=FULL")  # the default, for the pool
        self.conn.commit()

    def restore(self) -> None:
        """The indexes dropped by prepare(), built once over all the rows."""
        if not self.copy:
            return
        self.conn.rollback()  # after a failure, the transaction it broke
        if self.replica:
            self.conn.exec_driver_sql("SET session_replication_role = DEFAULT")
            self.replica = False
        for definition in self.dropped_indexes:
            self.conn.exec_driver_sql(definition)
        self.dropped_indexes = []
        self.conn.commit()


@lru_cache
def _first_morning(year: int) -> dt.datetime:
    return dt.datetime(year, 9, 1, 9)


def _copied(value: Any) -> Any:
    """A value as COPY takes it: a JSON column's default ({} of the added fields) as JSON text."""
    return json.dumps(value) if isinstance(value, dict | list) else value


def _default_value(default: Any) -> Any:
    """A column's Python-side default (a ColumnDefault: a value or a function of the context)."""
    return default.arg(None) if default.is_callable else default.arg


@dataclass
class _School:
    id: int
    number: int
    town: str
    programme_id: int
    partner_ids: list[int] = field(default_factory=list)


@dataclass
class _Partner:
    id: int
    number: int
    kind: str
    town: str
    short_name: str
    resource_ids: list[int] = field(default_factory=list)


@dataclass
class _Agreement:
    id: int
    school: _School
    partner: _Partner
    fgos_ids: list[int]


class _Generator:
    def __init__(self, seed: int, today: dt.date, years: int) -> None:
        self.seed = seed
        self.today = today
        self.current_year = academic_year_of(today)
        self.first_year = self.current_year - years + 1
        self.years = years
        self.password_hash = self._hash_once()
        self.timings: dict[str, dict[str, Any]] = {}
        self.catalog = self._catalog_ids()

    def rng(self, part: str) -> random.Random:
        # One stream per part: changing one part's size leaves the others' draws alone.
        return random.Random(f"{self.seed}:{part}")

    @staticmethod
    def _hash_once() -> str:
        user = m.User()
        user.set_password(BENCH_PASSWORD)  # scrypt is slow on purpose: once for all users
        return user.password_hash

    @staticmethod
    def _catalog_ids() -> dict[str, dict[str, int]]:
        def by(model: type[Any], key: str = "name") -> dict[str, int]:
            column = getattr(model, key)
            return dict(db.session.execute(select(column, model.id).order_by(model.id)).all())

        return {
            "partner_kind": by(m.PartnerKind),
            "event_kind": by(m.EventKind),
            "event_level": by(m.EventLevel),
            "audience": by(m.Audience, "code"),
            "position": by(m.Position),
            "education_level": by(m.EducationLevel, "code"),
            "fgos": by(m.FgosResult, "code"),
        }

    def stamp(self, year: int, rng: random.Random) -> dict[str, Any]:
        """Tracked columns: created in `year` (an academic year), never changed since: on one
        of its first 120 days, in one of the 600 minutes from 9:00 (one draw: millions of rows)."""
        drawn = int(rng.random() * 120 * 600)
        moment = _first_morning(year) + dt.timedelta(days=drawn // 600, minutes=drawn % 600)
        return {"created_at": moment, "updated_at": moment}

    def history(
        self,
        writer: _Writer,
        table: str,
        row: dict[str, Any],
        summary: str,
        action: str = "create",
        **extra: Any,
    ) -> None:
        """A row of the change history, as coop.history writes it for a change made by the system."""
        writer.add(
            m.History,
            {
                "id": writer.new_id(m.History),
                "at": row["created_at"],
                "user_id": None,
                "user_email": "system",
                "ip": "",
                "action": action,
                "table_name": table,
                "row_id": row["id"],
                "row_version": 1,
                "school_id": row.get("school_id"),
                "summary": summary[:500],
                "changes": extra.get("changes", {}),
                "comment": extra.get("comment", ""),
            },
        )

    def run(
        self, writer: _Writer, schools: int, partners: int, agreements: int, events: int, users: int
    ) -> None:
        school_rows = self.schools(writer, schools)
        partner_rows = self.partners(writer, partners)
        agreement_rows = self.agreements(writer, school_rows, partner_rows, agreements)
        self.plan(writer, agreement_rows, events)
        self.seminars(writer, school_rows, partner_rows)
        self.remarks(writer, school_rows, agreement_rows)
        self.users(writer, school_rows, partner_rows, users)

    # --- schools and their programmes ------------------------------------------------

    def schools(self, writer: _Writer, count: int) -> list[_School]:
        rng = self.rng("schools")
        numbers: Counter[tuple[str, str]] = Counter()
        result = []
        for index in range(1, count + 1):
            town, code = _pick_town(rng)
            owner, owner_short, _ = _weighted(rng, SCHOOL_OWNERS)
            kind, kind_short, _ = _weighted(rng, SCHOOL_TYPES)
            numbers[town, kind_short] += rng.randint(1, 3)  # numbering with gaps, as in a real town
            number = numbers[town, kind_short]
            school = _School(writer.new_id(m.School), index, town, writer.new_id(m.Programme))
            writer.add(
                m.School,
                {
                    "id": school.id,
                    "name": f"{owner} «{kind} № {number}» г. {town}",
                    "short_name": f"{owner_short} «{kind_short} № {number}» г. {town}",
                    "city": town,
                    "address": f"г. {town}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}",
                    "director": _person(rng),
                    "email": f"school{index}@edu42.example",
                    "phone": _phone(rng, code),
                    **self.stamp(self.first_year, rng),
                },
                main=True,
            )
            writer.add(
                m.Programme,
                {
                    "id": school.programme_id,
                    "school_id": school.id,
                    "title": rng.choice(PROGRAMME_TITLES),
                    "first_year": self.first_year,
                    "last_year": self.first_year + self.years,  # «2022–2027» runs to the 2026/27 year
                    "state": "active",
                    "innovation_status": rng.choice(("Муниципальная инновационная площадка", "")),
                    "goal": "Создание условий для достижения образовательных результатов ФГОС "
                    "с использованием ресурсов организаций-партнёров",
                    "tasks": "Выявить ограничения школы\nНайти партнёров\nЗаключить соглашения",
                    "results_students": "Осознанный выбор профессии",
                    "results_parents": "Участие в профориентации ребёнка",
                    **self.stamp(self.first_year, rng),
                },
            )
            result.append(school)
        return result

    # --- partners and their resources ------------------------------------------------

    def partners(self, writer: _Writer, count: int) -> list[_Partner]:
        rng = self.rng("partners")
        kinds = list(PARTNER_KINDS)
        weights = [PARTNER_KINDS[kind].weight for kind in kinds]
        taken: Counter[str] = Counter()
        result = []
        for index in range(1, count + 1):
            kind = rng.choices(kinds, weights=weights)[0]
            sphere = PARTNER_KINDS[kind].sphere
            town, code = _pick_town(rng)
            legal, pattern = rng.choice(PARTNER_KINDS[kind].names)
            name = pattern.format(
                n=rng.randint(1, 40),
                w=rng.choice(WORDS),
                u=rng.choice(UNIVERSITIES)[0],
                e=rng.choice(ENTERPRISE_STEMS) + rng.choice(ENTERPRISE_ENDINGS),
                mine=rng.choice(MINES),
            )
            short = f"{legal} «{name}»"
            full = f"{short}, г. {town}"
            taken[full] += 1
            if taken[full] > 1:  # names are unique; a second «Краеведческий музей» in a town gets a number
                full = f"{full} ({taken[full]})"
            partner = _Partner(writer.new_id(m.Partner), index, kind, town, short)
            writer.add(
                m.Partner,
                {
                    "id": partner.id,
                    "name": full,
                    "short_name": short,
                    "kind_id": self.catalog["partner_kind"][kind],
                    "sphere": sphere,
                    "city": town,
                    "address": f"г. {town}, {rng.choice(STREETS)}, д. {rng.randint(1, 200)}",
                    "contact_person": _person(rng),
                    "phone": _phone(rng, code),
                    "email": f"partner{index}@org42.example",
                    "description": "",
                    **self.stamp(self.first_year, rng),
                },
                main=True,
            )
            for title in rng.sample(RESOURCES[sphere], rng.randint(1, 3)):
                resource_id = writer.new_id(m.PartnerResource)
                partner.resource_ids.append(resource_id)
                writer.add(
                    m.PartnerResource,
                    {
                        "id": resource_id,
                        "partner_id": partner.id,
                        "title": title,
                        "description": "",
                        **self.stamp(self.first_year, rng),
                    },
                )
            result.append(partner)
        return result

    # --- agreements --------------------------------------------------------------------

    def agreements(
        self, writer: _Writer, schools: list[_School], partners: list[_Partner], count: int
    ) -> list[_Agreement]:
        rng = self.rng("agreements")
        by_town: dict[str, list[_Partner]] = defaultdict(list)
        for partner in partners:
            by_town[partner.town].append(partner)
        # Every school gets one; the rest go to schools at random.
        per_school = Counter(range(len(schools)))
        per_school.update(rng.choices(range(len(schools)), k=count - len(schools)))
        fgos = list(self.catalog["fgos"].values())
        levels = list(self.catalog["education_level"].values())
        result = []
        for index, school in enumerate(schools):
            wanted = min(per_school[index], len(partners))
            chosen: dict[int, _Partner] = {}
            while len(chosen) < wanted:
                # Mostly partners of the same town, as in life.
                pool = by_town[school.town] if rng.random() < 0.6 and by_town[school.town] else partners
                partner = rng.choice(pool)
                chosen.setdefault(partner.id, partner)
            for number, partner in enumerate(chosen.values(), 1):
                agreement = _Agreement(writer.new_id(m.Agreement), school, partner, rng.sample(fgos, 4))
                school.partner_ids.append(partner.id)
                network = partner.kind == "Организация дополнительного образования" and rng.random() < 0.5
                signed = dt.date(self.first_year, 9, 1) + dt.timedelta(days=rng.randrange(90))
                state = rng.choices(
                    ("active", "completed", "signing", "draft", "terminated"), weights=(80, 8, 5, 4, 3)
                )[0]
                row = {
                    "id": agreement.id,
                    "school_id": school.id,
                    "partner_id": partner.id,
                    "programme_id": school.programme_id,
                    "agreement_type": "network" if network else "cooperation",
                    "number": f"{self.first_year}/{number}",
                    "signed_on": signed,
                    "valid_from": signed,
                    "valid_to": dt.date(self.first_year + self.years, 8, 31),
                    "subject": "Образовательное сотрудничество в рамках программы развития школы",
                    "state": state,
                    **(
                        data.NETWORK_AGREEMENT_TERMS
                        if network
                        else dict.fromkeys(data.NETWORK_AGREEMENT_TERMS, "")
                    ),
                    **self.stamp(self.first_year, rng),
                }
                writer.add(m.Agreement, row, main=True)
                self.history(writer, "agreements", row, f"№ {row['number']}")
                for fgos_id in agreement.fgos_ids:
                    writer.add(
                        m.agreement_fgos_results, {"agreement_id": agreement.id, "fgos_result_id": fgos_id}
                    )
                for level_id in rng.sample(levels, rng.randint(1, len(levels))):
                    writer.add(m.agreement_levels, {"agreement_id": agreement.id, "level_id": level_id})
                result.append(agreement)
        return result

    # --- the network plan and its execution --------------------------------------------

    def plan(self, writer: _Writer, agreements: list[_Agreement], count: int) -> None:
        rng = self.rng("events")
        per_agreement = Counter(rng.choices(range(len(agreements)), k=count)) if agreements else Counter()
        for index, agreement in enumerate(agreements):
            lines = PLAN_LINES[agreement.partner.kind]
            for number in range(1, per_agreement[index] + 1):
                line = lines[(number - 1) % len(lines)]
                self.event(writer, rng, agreement, number, line, repeat=(number - 1) // len(lines))

    def event(
        self,
        writer: _Writer,
        rng: random.Random,
        agreement: _Agreement,
        number: int,
        line: data.DemoEvent,
        repeat: int,
    ) -> None:
        first, last = self.first_year, self.current_year
        if rng.random() < 0.2:  # added to the plan in a later year
            first = rng.randint(self.first_year, self.current_year)
        timing_text = line.timing_text
        roll = rng.random()
        if roll < 0.05:
            timing_text = rng.choice(OTHER_TIMINGS)
        elif roll < 0.08:  # a one-off, dated
            year = rng.randint(first, last)
            day = dt.date(year, 10, 1) + dt.timedelta(days=rng.randrange(180))
            timing_text = f"{day:%d.%m.%Y}"
        elif roll < 0.10:
            timing_text = f"{self.first_year}-{self.first_year + self.years}гг."
        timing = self.timing(timing_text)
        if timing["first_year"] is not None:
            first, last = timing["first_year"], timing["last_year"]
        title = line.title.format(p=agreement.partner.short_name)
        if repeat:
            title = f"{title} ({repeat + 1}-й поток)"
        state = rng.choices(("approved", "submitted", "draft", "cancelled"), cum_weights=(88, 93, 98, 100))[0]
        event_id = writer.new_id(m.Event)
        school = agreement.school
        row = {
            "id": event_id,
            "school_id": school.id,
            "partner_id": agreement.partner.id,
            "programme_id": school.programme_id,
            "number": number,
            "title": title,
            "section": "",
            "kind_id": self.catalog["event_kind"].get(line.kind),
            "level_id": self.catalog["event_level"].get(line.level),
            "audience_id": self.catalog["audience"][line.audience],
            "grades": line.grades,
            "description": "",
            **timing,
            "first_year": first,
            "last_year": last,
            "state": state,
            **self.stamp(first, rng),
        }
        writer.add(m.Event, row, main=True)
        self.history(writer, "events", row, f"{number}. {title}", comment="Импорт сетевого плана")
        if state == "approved":
            self.history(
                writer,
                "events",
                row,
                f"{number}. {title}",
                "transition",
                changes={"state": ["submitted", "approved"]},
            )
        for name in line.responsible:
            writer.add(
                m.event_positions, {"event_id": event_id, "position_id": self.catalog["position"][name]}
            )
        for fgos_id in rng.sample(agreement.fgos_ids, rng.randint(1, 2)):
            writer.add(m.event_fgos_results, {"event_id": event_id, "fgos_result_id": fgos_id})
        months = months_from_mask(timing["months_mask"]) or (10,)  # an unread timing: say October
        for year in range(first, min(last, self.current_year - 1) + 1):  # academic years already over
            held = state != "cancelled" and rng.random() < 0.85
            # random() rather than randint()/choice(): a few draws for each of millions of rows
            month = months[int(rng.random() * len(months))]
            held_on = dt.date(year if month >= 9 else year + 1, month, 1 + int(rng.random() * 28))
            counts = {"students": 0, "teachers": 0, "parents": 0}
            if held:
                counts[line.audience] = 8 + int(rng.random() * 53)
            writer.add(
                m.EventExecution,
                {
                    "id": writer.new_id(m.EventExecution),
                    "event_id": event_id,
                    "school_id": school.id,
                    "year": year,
                    "status": "held" if held else rng.choice(("not_held", "cancelled")),
                    "held_on": held_on if held else None,
                    "held_until": None,
                    "students_count": counts["students"],
                    "students_grades": line.grades if held else "",
                    "teachers_count": counts["teachers"],
                    "parents_count": counts["parents"],
                    "results": "Участники и победители отмечены грамотами"
                    if held and rng.random() < 0.3
                    else "",
                    "evidence_url": "",
                    **self.stamp(year, rng),
                },
            )

    def timing(self, timing_text: str) -> dict[str, Any]:
        """The timing columns as Event.set_timing fills them (read once per distinct text)."""
        if timing_text not in self.timings:
            probe = m.Event()
            probe.set_timing(timing_text)
            self.timings[timing_text] = {
                "timing_text": probe.timing_text,
                "months_mask": probe.months_mask,
                "all_year": probe.all_year,
                "start_date": probe.start_date,
                "end_date": probe.end_date,
                "timing_recognized": probe.timing_recognized,
                "first_year": probe.first_year,
                "last_year": probe.last_year,
            }
        return self.timings[timing_text]

    # --- seminars and the limitations they found -----------------------------------------

    def seminars(self, writer: _Writer, schools: list[_School], partners: list[_Partner]) -> None:
        rng = self.rng("seminars")
        partner_by_id = {partner.id: partner for partner in partners}
        for school in schools:
            plan = [(self.first_year, cycle) for cycle in data.SEMINAR_CYCLES]
            plan += [
                (year, (cycle, "", ""))
                for year in range(self.first_year + 1, self.current_year + 1)
                for cycle in ("design", "results")
            ]
            existing_id = None
            for year, (cycle, _label, _title) in plan:
                seminar_id = writer.new_id(m.Seminar)
                existing_id = existing_id or seminar_id
                month = {"existing": 10, "design": 11, "normative": 2, "results": 5}[cycle]
                held_on = dt.date(year if month >= 9 else year + 1, month, rng.randint(1, 28))
                writer.add(
                    m.Seminar,
                    {
                        "id": seminar_id,
                        "school_id": school.id,
                        "programme_id": school.programme_id,
                        "cycle": cycle,
                        "held_on": held_on if held_on <= self.today else None,
                        "topic": rng.choice(SEMINAR_TOPICS[cycle]),
                        "participants": "Администрация школы, руководители ШМО, представители партнёров",
                        "participants_count": rng.randint(8, 30),
                        "minutes": "",
                        "decisions": "Зафиксировать выявленные ограничения и ресурсы партнёров",
                        "documents": "",
                        **self.stamp(year, rng),
                    },
                )
                for partner_id in rng.sample(
                    school.partner_ids, min(len(school.partner_ids), rng.randint(1, 3))
                ):
                    writer.add(m.seminar_partners, {"seminar_id": seminar_id, "partner_id": partner_id})
            for title, description in rng.sample(LIMITATIONS, 2):
                resources = [r for pid in school.partner_ids for r in partner_by_id[pid].resource_ids]
                writer.add(
                    m.Limitation,
                    {
                        "id": writer.new_id(m.Limitation),
                        "school_id": school.id,
                        "seminar_id": existing_id,
                        "resource_id": rng.choice(resources) if resources and rng.random() < 0.6 else None,
                        "title": title,
                        "description": description,
                        **self.stamp(self.first_year, rng),
                    },
                )

    # --- the coordinator's remarks ------------------------------------------------------

    def remarks(self, writer: _Writer, schools: list[_School], agreements: list[_Agreement]) -> None:
        rng = self.rng("remarks")
        by_school: dict[int, list[int]] = defaultdict(list)
        for agreement in agreements:
            by_school[agreement.school.id].append(agreement.id)
        for school in schools:
            for _ in range(3):
                on_agreement = rng.random() < 0.5
                state = rng.choice(tuple(m.REMARK_STATES))
                writer.add(
                    m.Remark,
                    {
                        "id": writer.new_id(m.Remark),
                        "school_id": school.id,
                        "programme_id": None if on_agreement else school.programme_id,
                        "agreement_id": rng.choice(by_school[school.id]) if on_agreement else None,
                        "event_id": None,
                        "text": rng.choice(REMARKS),
                        "response": rng.choice(RESPONSES) if state != "open" else "",
                        "state": state,
                        **self.stamp(rng.randint(self.first_year, self.current_year), rng),
                    },
                )

    # --- users of every role ------------------------------------------------------------

    def users(self, writer: _Writer, schools: list[_School], partners: list[_Partner], count: int) -> None:
        rng = self.rng("users")
        admins = min(count, max(1, count // 2000))
        coordinators = min(count - admins, max(1, count // 200))
        school_users = (count - admins - coordinators) * 6 // 10
        partner_users = count - admins - coordinators - school_users
        accounts: list[tuple[str, str, int | None, int | None, str]] = []
        accounts += [(f"admin{i}", "admin", None, None, "Администратор") for i in range(1, admins + 1)]
        accounts += [
            (f"coordinator{i}", "coordinator", None, None, "Муниципальный координатор")
            for i in range(1, coordinators + 1)
        ]
        for i in range(school_users):  # round robin: every school has a user before any has two
            school = schools[i % len(schools)]
            accounts.append((f"school{school.number}.{i // len(schools) + 1}", "school", school.id, None, ""))
        for i in range(partner_users):
            partner = partners[i % len(partners)]
            accounts.append(
                (f"partner{partner.number}.{i // len(partners) + 1}", "partner", None, partner.id, "")
            )
        for login, role, school_id, partner_id, title in accounts:
            person = _person(rng)
            writer.add(
                m.User,
                {
                    "id": writer.new_id(m.User),
                    "email": f"{login}@{BENCH_DOMAIN}",
                    "name": f"{person} ({title})" if title else person,
                    "password_hash": self.password_hash,
                    "role": role,
                    "school_id": school_id,
                    "partner_id": partner_id,
                    "active": True,
                    "last_login_at": None,
                    **self.stamp(self.first_year, rng),
                },
                main=True,
            )


def _weighted(rng: random.Random, options: tuple[tuple[str, str, int], ...]) -> tuple[str, str, int]:
    return rng.choices(options, weights=[option[2] for option in options])[0]


def _pick_town(rng: random.Random) -> tuple[str, str]:
    town, code, _weight = rng.choices(TOWNS, weights=[t[2] for t in TOWNS])[0]
    return town, code


def _person(rng: random.Random) -> str:
    female = rng.random() < 0.7  # most teachers are women
    surname = rng.choice(SURNAMES)[female]
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    patronymic = rng.choice(PATRONYMICS)[female]
    return f"{surname} {first} {patronymic}"


def _phone(rng: random.Random, code: str) -> str:
    digits = f"{rng.randrange(10**7):07d}"[: 10 - len(code)]
    return f"+7 ({code}) {digits}"
