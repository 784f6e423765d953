"""Loading the demo data into the database, idempotently.

The catalogs are filled first where they are empty (``coop.seed.catalogs``);
every demo row is found by its natural key first and created only when missing,
so running `flask coop demo` twice leaves one copy of everything.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import select

from .. import models as m
from ..attention import past_months_mask
from ..extensions import db
from ..timing import ACADEMIC_MONTHS, academic_year_of, month_date_in_year
from . import catalogs
from . import demo_data as data

T = TypeVar("T")


def get_or_create(model: type[T], defaults: dict[str, Any] | None = None, **key: Any) -> T:
    """The row with this key, in the trash or not (a trashed demo row stays there:
    a second copy would clash with it), or a new one."""
    stmt = select(model).filter_by(**key).execution_options(include_deleted=True)
    row = db.session.execute(stmt).scalar_one_or_none()
    if row is None:
        row = model(**key, **(defaults or {}))
        db.session.add(row)
        db.session.flush()
    return row


def _by_name(model: type[Any]) -> dict[str, Any]:
    return {row.name: row for row in db.session.execute(select(model)).scalars()}


def _load_partner(demo: data.DemoPartner) -> m.Partner:
    kinds = _by_name(m.PartnerKind)
    partner = get_or_create(
        m.Partner,
        {
            "short_name": demo.short_name,
            "kind": kinds.get(demo.kind),
            "sphere": demo.sphere,
            "city": demo.city,
        },
        name=demo.name,
    )
    for title in demo.resources:
        get_or_create(m.PartnerResource, partner_id=partner.id, title=title)
    return partner


def _load_events(
    school: m.School, programme: m.Programme, partner: m.Partner, demo: data.DemoPartner
) -> list[m.Event]:
    kinds, levels, positions = _by_name(m.EventKind), _by_name(m.EventLevel), _by_name(m.Position)
    # An admin may have removed a position the demo plan names: the plan adds it, as an import would.
    for name in sorted({p for line in demo.events for p in line.responsible} - set(positions)):
        positions[name] = get_or_create(m.Position, name=name)
    audiences = {a.code: a for a in db.session.execute(select(m.Audience)).scalars()}
    sections = {"teachers": "учителя-предметники", "students": "учащиеся"}
    has_sections = len({e.audience for e in demo.events} - {"parents"}) > 1
    events = []
    for line in demo.events:
        section = sections.get(line.audience, "") if has_sections else ""
        event = get_or_create(
            m.Event,
            {
                "programme": programme,
                "kind": kinds.get(line.kind),
                "level": levels.get(line.level),
                "audience": audiences.get(line.audience),
                "grades": line.grades,
                "first_year": programme.first_year,
                "last_year": programme.last_year - 1,
                "state": "approved",
                "responsible": [positions[p] for p in line.responsible],
            },
            school_id=school.id,
            partner_id=partner.id,
            section=section,
            number=line.number,
            title=line.title,
        )
        event.set_timing(line.timing_text)
        events.append(event)
    return events


def _load_executions(events: list[m.Event], programme: m.Programme, today: dt.date) -> None:
    """Made-up but plausible execution records for the academic years already over."""
    for event in events:
        rng = random.Random(f"{event.school_id}-{event.partner_id}-{event.number}-{event.title}")
        for year in range(programme.first_year, min(programme.last_year, today.year)):
            if dt.date(year + 1, 8, 31) >= today:
                break
            held = rng.random() < 0.85
            audience = event.audience.code if event.audience else ""
            get_or_create(
                m.EventExecution,
                {
                    "school_id": event.school_id,
                    "status": "held" if held else "not_held",
                    "students_count": rng.randint(8, 60) if held and audience == "students" else 0,
                    "teachers_count": rng.randint(2, 12)
                    if held and audience == "teachers"
                    else rng.randint(0, 3)
                    if held
                    else 0,
                    "parents_count": rng.randint(15, 80) if held and audience == "parents" else 0,
                    "results": "Участники и победители отмечены грамотами"
                    if held and rng.random() < 0.3
                    else "",
                },
                event_id=event.id,
                year=year,
            )


def _load_current_records(events: list[m.Event], programme: m.Programme, today: dt.date) -> None:
    """Records of the current academic year for a partner's lines whose months are all over:
    held, but for the line that ended last, which the school has not recorded yet (the
    coordinator's attention list names it). Lines with a month still ahead stay planned."""
    year = academic_year_of(today)
    if not programme.first_year <= year < programme.last_year:
        return
    past = past_months_mask(year, today)
    over = [e for e in events if e.months_mask and not e.months_mask & ~past]
    last_month = {e.id: max(e.months, key=ACADEMIC_MONTHS.index) for e in over}
    over.sort(key=lambda e: (ACADEMIC_MONTHS.index(last_month[e.id]), e.id))
    for event in over[:-1]:
        rng = random.Random(f"{event.school_id}-{event.partner_id}-{event.number}-{event.title}-{year}")
        audience = event.audience.code if event.audience else ""
        get_or_create(
            m.EventExecution,
            {
                "school_id": event.school_id,
                "status": "held",
                "held_on": month_date_in_year(last_month[event.id], year) + dt.timedelta(days=14),
                "students_count": rng.randint(8, 60) if audience == "students" else 0,
                "teachers_count": rng.randint(1, 4),
                "parents_count": rng.randint(15, 80) if audience == "parents" else 0,
            },
            event_id=event.id,
            year=year,
        )


# The ФГОС results (by group or subgroup) a students' event of each kind serves: in
# the demo an event serves those of its partner's agreement. No kind serves the
# регулятивные УУД, so the coverage matrix has gaps to show.
FGOS_BY_EVENT_KIND: dict[str, tuple[str, ...]] = {
    "Профориентация": ("Личностные",),
    "День открытых дверей": ("Личностные",),
    "Экскурсия": ("Личностные",),
    "Профессиональные пробы": ("Личностные", "Предметные"),
    "Музейный урок": ("Личностные", "Предметные"),
    "Олимпиада": ("Предметные", "Познавательные УУД"),
    "Конкурс": ("Познавательные УУД",),
    "Интеллектуальная игра": ("Познавательные УУД",),
    "Квест": ("Коммуникативные УУД",),
    "Конференция": ("Коммуникативные УУД",),
    "Форум": ("Коммуникативные УУД",),
    "Фестиваль": ("Коммуникативные УУД",),
    "Выставка": ("Коммуникативные УУД",),
}


def _link_fgos_results(events: list[m.Event], agreed: list[m.FgosResult]) -> None:
    """Link each students' event to the agreed results its kind serves, unless it has links already."""
    for event in events:
        if event.fgos_results or event.audience is None or event.audience.code != "students":
            continue
        serves = FGOS_BY_EVENT_KIND.get(event.kind.name if event.kind else "", ())
        event.fgos_results = [r for r in agreed if r.group in serves or r.subgroup in serves]


def _load_programme(demo: data.DemoProgramme, today: dt.date) -> m.School:
    school = get_or_create(
        m.School, {"short_name": demo.school_short_name, "city": demo.city}, name=demo.school_name
    )
    programme = get_or_create(
        m.Programme,
        {
            "first_year": demo.first_year,
            "last_year": demo.last_year,
            "state": "active",
            "innovation_status": demo.status,
            "rationale": demo.rationale,
            "goal": demo.goal,
            "tasks": "\n".join(demo.tasks),
            "results_municipal": "\n".join(demo.results_municipal),
            "results_students": "\n".join(demo.results_students),
            "results_teachers": "\n".join(demo.results_teachers),
            "results_parents": "\n".join(demo.results_parents),
        },
        school_id=school.id,
        title=demo.title,
    )
    fgos = list(db.session.execute(select(m.FgosResult).order_by(m.FgosResult.sort_order)).scalars())
    levels = list(
        db.session.execute(select(m.EducationLevel).order_by(m.EducationLevel.sort_order)).scalars()
    )
    for index, demo_partner in enumerate(demo.partners, start=1):
        partner = _load_partner(demo_partner)
        network = demo_partner.kind == "Организация дополнительного образования"
        agreement = get_or_create(
            m.Agreement,
            {
                "programme": programme,
                "agreement_type": "network" if network else "cooperation",
                "signed_on": dt.date(demo.first_year, 9, 1),
                "valid_from": dt.date(demo.first_year, 9, 1),
                "valid_to": dt.date(demo.last_year, 8, 31),
                "subject": f"Образовательное сотрудничество в рамках программы «{demo.title}»",
                "state": "active",
                "fgos_results": fgos[index % 4 :: 4],
                "levels": levels[1:],
                **(data.NETWORK_AGREEMENT_TERMS if network else {}),
            },
            school_id=school.id,
            partner_id=partner.id,
            number=f"{demo.first_year}/{index}",
        )
        events = _load_events(school, programme, partner, demo_partner)
        _link_fgos_results(events, agreement.fgos_results)
        _load_executions(events, programme, today)
        _load_current_records(events, programme, today)
    _load_seminars(school, programme)
    return school


# (cycle, topic, month, documents produced)
SEMINARS = (
    ("existing", "Какие формы взаимодействия со сторонними организациями уже есть у школы", 10, ""),
    (
        "design",
        "Проектирование сотрудничества: согласованные образовательные результаты",
        12,
        "Перечень образовательных результатов ФГОС, согласованных с организациями-партнёрами",
    ),
    (
        "normative",
        "Положение о сетевом взаимодействии и форма соглашения",
        2,
        "Положение о сетевом взаимодействии\n"
        "Форма договора о сетевой форме реализации образовательных программ",
    ),
    ("results", "Итоги года: что дало сотрудничество ученикам", 5, "Аналитическая справка об итогах года"),
)


def _load_seminars(school: m.School, programme: m.Programme) -> None:
    for cycle, topic, month, documents in SEMINARS:
        year = programme.first_year + (1 if month < 9 else 0)
        seminar = get_or_create(
            m.Seminar,
            {
                "programme": programme,
                "held_on": dt.date(year, month, 15),
                "participants": "Администрация школы, руководители ШМО, представители партнёров",
                "participants_count": 18,
                "decisions": "Зафиксировать выявленные ограничения и ресурсы партнёров",
                "documents": documents,
            },
            school_id=school.id,
            cycle=cycle,
            topic=topic,
        )
        if cycle == "existing":
            resources = (
                db.session.execute(select(m.PartnerResource).order_by(m.PartnerResource.id)).scalars().all()
            )
            get_or_create(
                m.Limitation,
                {
                    "seminar": seminar,
                    "description": "Нет условий для практики вне урока",
                    "resource": resources[0] if resources else None,
                },
                school_id=school.id,
                title="Недостаточно мест практического применения знаний",
            )
            get_or_create(
                m.Limitation,
                {"seminar": seminar, "description": "Выявлено на анализе результатов ВПР"},
                school_id=school.id,
                title="Низкий уровень сформированности коммуникативных УУД",
            )


def _load_users() -> None:
    for email, password, role, school_name, partner_name, name in data.DEMO_USERS:
        school = _find_by_short_name(m.School, school_name)
        partner = _find_by_short_name(m.Partner, partner_name)
        user = get_or_create(
            m.User, {"role": role, "name": name, "school": school, "partner": partner}, email=email
        )
        if not user.check_password(password):
            user.set_password(password)


def _find_by_short_name(model: type[T], short_name: str | None) -> T | None:
    if short_name is None:
        return None
    stmt = select(model).filter_by(short_name=short_name).execution_options(include_deleted=True)
    return db.session.execute(stmt).scalar_one()


def _load_present(gymnasium: m.School, today: dt.date) -> None:
    """The gymnasium's second stage, running into the current academic year, with a line the
    museum proposed and the school has not reviewed for PROPOSAL_WAITING_DAYS, an agreement
    ending within weeks, and a remark about the records."""
    stage = data.SCHOOL_2_NEXT
    _load_programme(replace(stage, last_year=max(stage.last_year, academic_year_of(today) + 1)), today)
    programme = db.session.execute(select(m.Programme).filter_by(title=stage.title)).scalar_one()
    museum = _find_by_short_name(m.Partner, data.MUSEUM.short_name)
    assert museum is not None
    since = dt.datetime.combine(today, dt.time(9)) - dt.timedelta(days=data.PROPOSAL_WAITING_DAYS)
    year = academic_year_of(today)
    line = data.MUSEUM_PROPOSAL
    key = {"school_id": gymnasium.id, "partner_id": museum.id, "number": line.number, "title": line.title}
    found = select(m.Event).filter_by(**key).execution_options(include_deleted=True)
    if db.session.execute(found).scalar_one_or_none() is None:
        proposal = m.Event(
            **key,
            programme=programme,
            kind=_by_name(m.EventKind).get(line.kind),
            audience=db.session.execute(select(m.Audience).filter_by(code=line.audience)).scalar_one(),
            grades=line.grades,
            first_year=year,
            last_year=year,
            state="submitted",
            responsible=[get_or_create(m.Position, name=name) for name in line.responsible],
            created_at=since,
            updated_at=since,  # one INSERT with its timing: no UPDATE to move the date
        )
        proposal.set_timing(line.timing_text)
        db.session.add(proposal)
    first = dt.date(year, 9, 1)
    get_or_create(
        m.Agreement,
        {
            "programme": programme,
            "agreement_type": "cooperation",
            "signed_on": first,
            "valid_from": first,
            "valid_to": today + dt.timedelta(days=40),
            "subject": "Выставка ученических проектов «Семейные реликвии» в музейном зале",
            "state": "active",
        },
        school_id=gymnasium.id,
        partner_id=museum.id,
        number=f"{stage.first_year}/В",
    )
    get_or_create(
        m.Remark,
        {"programme": programme, "state": "open", "created_at": since + dt.timedelta(days=7)},
        school_id=gymnasium.id,
        text="Внесите записи о проведённых мероприятиях прошедших месяцев текущего учебного года.",
    )


MENTORING_FORMS = ["ученик — ученик", "учитель — ученик", "студент — ученик", "работодатель — ученик"]
GYMNASIUM_PROFILES = ["гуманитарный", "естественно-научный", "технологический"]


def _load_added_fields(gymnasium: m.School, school31: m.School) -> None:
    """Fields added in the site (coop/added_fields.py): the municipality's, one the
    coordinator proposed (switched off), and the gymnasium's own; a few values filled."""
    forms = get_or_create(
        m.ChoiceList, {"items": MENTORING_FORMS}, name="Формы наставничества", school_id=None
    )
    profiles = get_or_create(
        m.ChoiceList, {"items": GYMNASIUM_PROFILES}, name="Профили гимназии", school_id=gymnasium.id
    )
    fields = [
        dict(
            model="event",
            key="mentoring_form",
            label="Форма наставничества",
            kind="choice",
            choice_list_id=forms.id,
            group="Наставничество",
            filled_by="school_partner",
            school_id=None,
        ),
        dict(
            model="execution",
            key="career_hours",
            label="Часы профминимума",
            kind="integer",
            group="Профориентационный минимум",
            in_list=True,
            school_id=None,
        ),
        dict(
            model="execution",
            key="partner_resources",
            label="Использованные ресурсы партнёра",
            kind="long_text",
            is_active=False,
            school_id=None,
        ),
        dict(
            model="event",
            key="school_contact",
            label="Контакт в школе",
            kind="text",
            help_text="Кто в школе отвечает за мероприятие перед партнёром.",
            school_id=school31.id,
        ),
        dict(
            model="event",
            key="profile",
            label="Профиль",
            kind="choice",
            choice_list_id=profiles.id,
            in_list=True,
            school_id=gymnasium.id,
        ),
    ]
    for field in fields:
        stmt = select(m.FieldDefinition.id).filter_by(model=field["model"], key=field["key"])
        if db.session.execute(stmt.execution_options(include_deleted=True)).first() is None:
            db.session.add(m.FieldDefinition(**field))
    db.session.flush()
    events = db.session.execute(  # lines of the latest plan
        select(m.Event)
        .where(
            m.Event.school_id == gymnasium.id, m.Event.state == "approved"
        )  # not the proposal awaiting review
        .order_by(m.Event.first_year.desc(), m.Event.id)
        .limit(3)
    ).scalars()
    for event, (form, profile) in zip(
        events, zip(MENTORING_FORMS, GYMNASIUM_PROFILES, strict=False), strict=False
    ):
        if not event.extra:
            event.extra = {"mentoring_form": form, "profile": profile}
    records = db.session.execute(
        select(m.EventExecution)
        .where(m.EventExecution.school_id == gymnasium.id, m.EventExecution.status == "held")
        .order_by(m.EventExecution.year.desc(), m.EventExecution.id)  # the latest year's
        .limit(3)
    ).scalars()
    for hours, record in enumerate(records, start=2):
        if not record.extra:
            record.extra = {"career_hours": hours}


def load_demo(today: dt.date | None = None) -> None:
    """Catalogs, both demo schools with their plans (the gymnasium's up to the current
    academic year), and a user for every role."""
    today = today or dt.date.today()
    catalogs.fill_empty_catalogs(db.session.connection())
    school31 = _load_programme(data.SCHOOL_31, today)
    gymnasium = _load_programme(data.SCHOOL_2, today)
    programme = db.session.execute(select(m.Programme).filter_by(school_id=school31.id)).scalar_one()
    get_or_create(
        m.Remark,
        {
            "programme": programme,
            "state": "open",
            "created_at": dt.datetime.combine(today, dt.time(9)) - dt.timedelta(days=23),
        },
        school_id=school31.id,
        text="Уточните ожидаемые результаты для родителей: как они будут измеряться?",
    )
    _load_present(gymnasium, today)
    _load_added_fields(gymnasium, school31)
    _load_users()
    _load_saved_views(school31)
    _load_data_request(gymnasium, today)
    db.session.commit()


# A data request of the municipality for the current academic year (coop/data_requests.py):
# (question, kind, required, the figure it is prefilled from).
DATA_REQUEST_QUESTIONS = (
    ("Мероприятий сетевого плана проведено в учебном году", "integer", True, "lines_held"),
    ("Обучающихся приняли участие в мероприятиях", "integer", True, "participants_students"),
    ("Действующих соглашений с организациями-партнёрами", "integer", True, "agreements_active"),
    ("Лучшая практика сотрудничества (кратко)", "long_text", True, None),
    ("Нужна ли школе методическая помощь?", "boolean", False, None),
)


def _load_data_request(gymnasium: m.School, today: dt.date) -> None:
    """A request to every school, due in ten days: the gymnasium has submitted its answer,
    СОШ № 31 has not started on it."""
    year = academic_year_of(today)
    request = get_or_create(
        m.DataRequest,
        {
            "explanation": "Сведения для сводного отчёта управления образования о сетевом взаимодействии.",
            "deadline": today + dt.timedelta(days=10),
            "addressees": "all",
        },
        title=f"Сетевое взаимодействие в {year}/{year + 1} учебном году",
        year=year,
    )
    for order, (label, kind, required, prefill) in enumerate(DATA_REQUEST_QUESTIONS, start=1):
        get_or_create(
            m.DataRequestQuestion,
            {"kind": kind, "required": required, "prefill": prefill, "sort_order": order * 10},
            request_id=request.id,
            label=label,
        )
    db.session.refresh(request)
    given = (2, 130, 5, "Профориентационные пробы на базе колледжа для 8–9 классов", False)
    get_or_create(
        m.DataRequestAnswer,
        {
            "state": "submitted",
            "values": {str(q.id): {"value": v} for q, v in zip(request.questions, given, strict=True)},
            "submitted_at": dt.datetime.combine(today, dt.time(10)) - dt.timedelta(days=1),
        },
        request_id=request.id,
        school_id=gymnasium.id,
    )


def _load_saved_views(school31: m.School) -> None:
    """A view of the events list that СОШ № 31 shares among its users: its lines with КемГУ
    by title, with fewer columns (coop/saved_views.py)."""
    db.session.flush()
    user = db.session.execute(select(m.User).filter_by(email="school31@coop.example")).scalar_one_or_none()
    kemsu = db.session.execute(
        select(m.Partner).filter_by(short_name="КемГУ (НФИ КемГУ)")
    ).scalar_one_or_none()
    if user is None or kemsu is None:
        return
    get_or_create(
        m.SavedView,
        {
            "query": f"flt0_3={kemsu.id}&sort=title",  # the list's filter «Организация-партнёр равно»
            "columns": ["number", "title", "timing_text", "state"],
            "visibility": "school",
            "school_id": school31.id,
        },
        user_id=user.id,
        endpoint="event",
        name="Мероприятия с КемГУ",
    )


# The demo names its kinds, levels, audiences and positions as the default catalogs do.
assert all(
    e.kind in catalogs.EVENT_KINDS
    and e.level in (*catalogs.EVENT_LEVELS, "")
    and e.audience in dict(catalogs.AUDIENCES)
    and set(e.responsible) <= set(catalogs.POSITIONS)
    for programme in data.PROGRAMMES
    for p in programme.partners
    for e in p.events
)
assert all(p.kind in catalogs.PARTNER_KINDS for programme in data.PROGRAMMES for p in programme.partners)
