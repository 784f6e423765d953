"""Every table of Coop (DESIGN.md fixes this single module)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, declared_attr, joinedload, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .timing import Timing, months_from_mask, parse_timing


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- choice sets that code depends on (states, roles, spheres) -------------------
# Catalogs that users extend (kinds, levels, positions…) are tables further down.

ROLES = {
    "admin": _l("Administrator"),
    "coordinator": _l("Municipal coordinator"),
    "school": _l("School"),
    "partner": _l("Partner"),
}
SPHERES = {
    "educational": _l("Educational"),
    "production": _l("Production"),
    "social": _l("Social"),
}
AGREEMENT_TYPES = {
    "network": _l("Network form agreement (art. 15 of 273-FZ)"),
    "cooperation": _l("Cooperation agreement"),
}
SEMINAR_CYCLES = {
    "existing": _l("Reflective-analytical: existing forms of interaction"),
    "design": _l("Design of educational cooperation"),
    "normative": _l("Development of local normative documents"),
    "results": _l("Reflective-analytical: results of cooperation"),
}
PROGRAMME_STATES = {"draft": _l("Draft"), "active": _l("In progress"), "completed": _l("Completed")}
AGREEMENT_STATES = {
    "draft": _l("Draft"),
    "signing": _l("Being signed"),
    "active": _l("In force"),
    "completed": _l("Completed"),
    "terminated": _l("Terminated"),
}
EVENT_STATES = {
    "draft": _l("Draft"),
    "submitted": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "held": _l("Held"),
    "cancelled": _l("Cancelled"),
}
EXECUTION_STATUSES = {
    "planned": _l("Planned"),
    "held": _l("Held"),
    "not_held": _l("Not held"),
    "cancelled": _l("Cancelled"),
}
REMARK_STATES = {
    "open": _l("Open"),
    "answered": _l("Answered"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}


# --- mixins ----------------------------------------------------------------------


class Tracked:
    """Who created and changed a row and when, plus a version for conflict checks.

    SQLAlchemy bumps `version` on every UPDATE and refuses a stale one, so two
    people saving the same row cannot silently overwrite each other.
    """

    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # In the trash when set; rows deleted together share a batch and are restored together.
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    deleted_batch: Mapped[str | None] = mapped_column(String(32), index=True)

    # Plain ids, not foreign keys: users and schools refer to each other, and the
    # trail must outlive a deleted user.
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(Integer)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805
        return {"version_id_col": cls.version}


class Catalog(Tracked):
    """An admin-editable choice list: a name, an order, and whether it is offered."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.name


# --- catalogs --------------------------------------------------------------------


class PartnerKind(Catalog, db.Model):
    __tablename__ = "partner_kinds"


class EventKind(Catalog, db.Model):
    __tablename__ = "event_kinds"


class EventLevel(Catalog, db.Model):
    __tablename__ = "event_levels"


class Audience(Catalog, db.Model):
    __tablename__ = "audiences"
    code: Mapped[str] = mapped_column(String(32), unique=True)


class Position(Catalog, db.Model):
    """A responsible position in a school («Заместитель директора по УВР»)."""

    __tablename__ = "positions"


class EducationLevel(Catalog, db.Model):
    """НОО 1–4, ООО 5–9, СОО 10–11."""

    __tablename__ = "education_levels"
    code: Mapped[str] = mapped_column(String(8), unique=True)
    grades: Mapped[str] = mapped_column(String(16), default="")


class FgosResult(Tracked, db.Model):
    """An educational result of the ФГОС: personal, meta-subject (УУД) or subject."""

    __tablename__ = "fgos_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    group: Mapped[str] = mapped_column(String(64))
    subgroup: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(500))
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        prefix = self.subgroup or self.group
        return f"{prefix}: {self.title}"


# --- tenants and directory -------------------------------------------------------


class School(Tracked, db.Model):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    short_name: Mapped[str] = mapped_column(String(255), unique=True)
    city: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    director: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")

    def __str__(self) -> str:
        return self.short_name or self.name


class Partner(Tracked, db.Model):
    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    short_name: Mapped[str] = mapped_column(String(255), default="", index=True)
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("partner_kinds.id"), index=True)
    sphere: Mapped[str] = mapped_column(String(32), default="educational")
    city: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    contact_person: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    website: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    kind: Mapped[PartnerKind | None] = relationship()
    resources: Mapped[list[PartnerResource]] = relationship(
        back_populates="partner", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.short_name or self.name


class PartnerResource(Tracked, db.Model):
    """What a partner offers for reaching ФГОС results: labs, experts, venues…"""

    __tablename__ = "partner_resources"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")

    partner: Mapped[Partner] = relationship(back_populates="resources")

    def __str__(self) -> str:
        return f"{self.partner}: {self.title}" if self.partner else self.title


# --- programme and agreements ----------------------------------------------------


class Programme(Tracked, db.Model):
    __tablename__ = "programmes"
    __table_args__ = (CheckConstraint("last_year >= first_year", name="year_span"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    first_year: Mapped[int] = mapped_column(Integer, index=True)
    last_year: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(32), default="draft")
    innovation_status: Mapped[str] = mapped_column(String(255), default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    tasks: Mapped[str] = mapped_column(Text, default="")
    results_municipal: Mapped[str] = mapped_column(Text, default="")
    results_students: Mapped[str] = mapped_column(Text, default="")
    results_teachers: Mapped[str] = mapped_column(Text, default="")
    results_parents: Mapped[str] = mapped_column(Text, default="")

    school: Mapped[School] = relationship()

    @property
    def period(self) -> str:
        return f"{self.first_year}–{self.last_year}"

    def __str__(self) -> str:
        return f"{self.title} ({self.period})"


agreement_fgos_results = Table(
    "agreement_fgos_results",
    db.metadata,
    Column("agreement_id", ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    Column("fgos_result_id", ForeignKey("fgos_results.id", ondelete="CASCADE"), primary_key=True),
)
agreement_levels = Table(
    "agreement_levels",
    db.metadata,
    Column("agreement_id", ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    Column("level_id", ForeignKey("education_levels.id", ondelete="CASCADE"), primary_key=True),
)


class Agreement(Tracked, db.Model):
    """An agreement of a school with a partner within a programme.

    The network form (art. 15 of 273-ФЗ) must name the programme's kind, level and
    focus, the status of students, who does what with which resources, the
    documents issued and the term; those fields stay empty for an ordinary one.
    """

    __tablename__ = "agreements"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    agreement_type: Mapped[str] = mapped_column(String(32), default="cooperation")
    number: Mapped[str] = mapped_column(String(64), default="")
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(32), default="draft")
    document: Mapped[str] = mapped_column(String(500), default="")
    # Network form only (art. 15 of 273-ФЗ).
    programme_kind: Mapped[str] = mapped_column(String(255), default="")
    programme_level: Mapped[str] = mapped_column(String(255), default="")
    programme_focus: Mapped[str] = mapped_column(String(255), default="")
    student_status: Mapped[str] = mapped_column(Text, default="")
    responsibilities: Mapped[str] = mapped_column(Text, default="")
    issued_documents: Mapped[str] = mapped_column(Text, default="")
    term: Mapped[str] = mapped_column(String(255), default="")

    school: Mapped[School] = relationship()
    partner: Mapped[Partner] = relationship()
    programme: Mapped[Programme | None] = relationship()
    fgos_results: Mapped[list[FgosResult]] = relationship(secondary=agreement_fgos_results)
    levels: Mapped[list[EducationLevel]] = relationship(secondary=agreement_levels)

    def __str__(self) -> str:
        number = f"№ {self.number} " if self.number else ""
        return f"{number}{self.school} — {self.partner}"


# --- network plan ----------------------------------------------------------------

event_positions = Table(
    "event_positions",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("position_id", ForeignKey("positions.id", ondelete="CASCADE"), primary_key=True),
)
event_fgos_results = Table(
    "event_fgos_results",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("fgos_result_id", ForeignKey("fgos_results.id", ondelete="CASCADE"), primary_key=True),
)


class Event(Tracked, db.Model):
    """A line of the network plan, entered once and repeated every academic year
    from first_year to last_year; each year's execution is an EventExecution."""

    __tablename__ = "events"
    # The review queue: lines awaiting approval, oldest first.
    __table_args__ = (Index("ix_events_state_updated_at", "state", "updated_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    section: Mapped[str] = mapped_column(String(255), default="")
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("event_kinds.id"), index=True)
    level_id: Mapped[int | None] = mapped_column(ForeignKey("event_levels.id"), index=True)
    audience_id: Mapped[int | None] = mapped_column(ForeignKey("audiences.id"), index=True)
    grades: Mapped[str] = mapped_column(String(64), default="")
    timing_text: Mapped[str] = mapped_column(String(255), default="")
    months_mask: Mapped[int] = mapped_column(Integer, default=0)
    all_year: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    timing_recognized: Mapped[bool] = mapped_column(Boolean, default=True)
    first_year: Mapped[int | None] = mapped_column(Integer, index=True)
    last_year: Mapped[int | None] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(32), default="draft", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Responsible positions that are not in the catalog, as written (a school's import
    # keeps them here: only an admin adds to the catalog).
    responsible_other: Mapped[str] = mapped_column(Text, default="", server_default="")

    school: Mapped[School] = relationship()
    partner: Mapped[Partner] = relationship()
    programme: Mapped[Programme | None] = relationship()
    kind: Mapped[EventKind | None] = relationship()
    level: Mapped[EventLevel | None] = relationship()
    audience: Mapped[Audience | None] = relationship()
    responsible: Mapped[list[Position]] = relationship(secondary=event_positions)
    fgos_results: Mapped[list[FgosResult]] = relationship(secondary=event_fgos_results)
    executions: Mapped[list[EventExecution]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )

    @property
    def months(self) -> tuple[int, ...]:
        return months_from_mask(self.months_mask)

    def set_timing(self, text: str, manual_months: tuple[int, ...] = ()) -> Timing:
        """Keep the timing as written and the months read from it.

        A timing that cannot be read keeps its text, stays flagged, and takes
        the months a person set by hand, if any: it is never guessed.
        """
        timing = parse_timing(text)
        self.timing_text = timing.text
        self.months_mask = timing.as_mask() if timing.recognized else Timing("", manual_months).as_mask()
        self.all_year = timing.all_year
        self.start_date, self.end_date = timing.start, timing.end
        self.timing_recognized = timing.recognized
        if timing.first_year is not None:  # «2019-2023гг.», «октябрь 2020», dates
            self.first_year, self.last_year = timing.first_year, timing.last_year
        return timing

    def __str__(self) -> str:
        number = f"{self.number}. " if self.number is not None else ""
        return f"{number}{self.title}"


class EventExecution(Tracked, db.Model):
    """What happened with a plan line in one academic year."""

    __tablename__ = "event_executions"
    __table_args__ = (
        UniqueConstraint("event_id", "year", name="event_year"),
        # The dashboard joins a year's lines with their records and sums these columns:
        # covering them spares a million-row table the lookups (also the year filter's index).
        Index(
            "ix_event_executions_dashboard",
            "year",
            "event_id",
            "deleted_at",
            "status",
            "students_count",
            "teachers_count",
            "parents_count",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # Copied from the event so that the tenant filter needs no join.
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="planned")
    held_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    held_until: Mapped[dt.date | None] = mapped_column(Date)
    students_count: Mapped[int] = mapped_column(Integer, default=0)
    students_grades: Mapped[str] = mapped_column(String(64), default="")
    teachers_count: Mapped[int] = mapped_column(Integer, default=0)
    parents_count: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[str] = mapped_column(Text, default="")
    evidence_url: Mapped[str] = mapped_column(String(500), default="")
    evidence_file: Mapped[str] = mapped_column(String(500), default="")

    event: Mapped[Event] = relationship(back_populates="executions")
    school: Mapped[School] = relationship()

    def __str__(self) -> str:
        return f"{self.event} — {self.year}/{self.year + 1}"


# --- seminars, limitations, remarks ----------------------------------------------

seminar_partners = Table(
    "seminar_partners",
    db.metadata,
    Column("seminar_id", ForeignKey("seminars.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
)


class Seminar(Tracked, db.Model):
    """A seminar of one of the four cycles of the innovation project."""

    __tablename__ = "seminars"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    cycle: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    topic: Mapped[str] = mapped_column(String(500))
    participants: Mapped[str] = mapped_column(Text, default="")
    participants_count: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    documents: Mapped[str] = mapped_column(Text, default="")

    school: Mapped[School] = relationship()
    programme: Mapped[Programme | None] = relationship()
    partners: Mapped[list[Partner]] = relationship(secondary=seminar_partners)
    limitations: Mapped[list[Limitation]] = relationship(back_populates="seminar")

    def __str__(self) -> str:
        return self.topic


class Limitation(Tracked, db.Model):
    """Something a school cannot do alone, found at a seminar, and the partner
    resource that addresses it."""

    __tablename__ = "limitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    seminar_id: Mapped[int | None] = mapped_column(ForeignKey("seminars.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("partner_resources.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")

    school: Mapped[School] = relationship()
    seminar: Mapped[Seminar | None] = relationship(back_populates="limitations")
    resource: Mapped[PartnerResource | None] = relationship()

    @property
    def is_addressed(self) -> bool:
        return self.resource_id is not None

    def __str__(self) -> str:
        return self.title


class Remark(Tracked, db.Model):
    """An audit remark of the coordinator on a programme, agreement or event."""

    __tablename__ = "remarks"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(32), default="open")

    school: Mapped[School] = relationship()
    programme: Mapped[Programme | None] = relationship()
    agreement: Mapped[Agreement | None] = relationship()
    event: Mapped[Event | None] = relationship()

    def __str__(self) -> str:
        return self.text[:80]


# --- files ----------------------------------------------------------------------


class StoredFile(Tracked, db.Model):
    """A file attached to a school's row (agreement document, evidence, minutes).

    Kept under instance/uploads by a random name; served only through coop.uploads,
    which asks the policy about the row it belongs to.
    """

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_owner", "owner_table", "owner_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    owner_table: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))

    school: Mapped[School] = relationship()

    def __str__(self) -> str:
        return self.original_name


# --- history ---------------------------------------------------------------------


class History(db.Model):
    """An append-only record of every change: written by coop.audit from session
    events, never through a view."""

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    user_email: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))  # create, update, delete, restore, transition
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int] = mapped_column(Integer)
    row_version: Mapped[int | None] = mapped_column(Integer)
    school_id: Mapped[int | None] = mapped_column(Integer, index=True)  # for the tenant filter
    summary: Mapped[str] = mapped_column(String(500), default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field: [before, after]
    comment: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_history_row", "table_name", "row_id"),)

    def __str__(self) -> str:
        return f"{self.action} {self.table_name} #{self.row_id}"


# --- calendar subscriptions --------------------------------------------------------


class CalendarFeed(Tracked, db.Model):
    """A secret-token iCalendar URL for one school's or one partner's plan.

    Regenerating the token revokes the old URL; the feed is read with the
    rights of that school or partner, so it shows what its users would see.
    """

    __tablename__ = "calendar_feeds"
    __table_args__ = (CheckConstraint("(school_id IS NULL) != (partner_id IS NULL)", name="one_owner"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), unique=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), unique=True)

    school: Mapped[School | None] = relationship()
    partner: Mapped[Partner | None] = relationship()

    def __str__(self) -> str:
        return str(self.school or self.partner)


# --- users -----------------------------------------------------------------------


class User(UserMixin, Tracked, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role != 'school' OR school_id IS NOT NULL) AND (role != 'partner' OR partner_id IS NOT NULL)",
            name="tenant_for_role",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(32))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changing it (disable, password change) invalidates every existing session.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A temporary password set by an administrator: the user must replace it
    # before anything else opens (coop/auth.py).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    school: Mapped[School | None] = relationship(foreign_keys=[school_id])
    partner: Mapped[Partner | None] = relationship(foreign_keys=[partner_id])

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active) and self.deleted_at is None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return self.name or self.email


class SignIn(db.Model):
    """An attempt to sign in, successful or not: the sign-in log (admin only),
    kept apart from the history of changes. Written by coop.auth, never through a view."""

    __tablename__ = "sign_ins"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # A plain id, as in the history: the log outlives the account; None for an unknown e-mail.
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    email: Mapped[str] = mapped_column(String(255), default="")  # as typed
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(32), default="")  # a code of SIGN_IN_REASONS

    def __str__(self) -> str:
        return f"{self.email} {self.at:%d.%m.%Y %H:%M}" if self.at else self.email


SIGN_IN_REASONS = {
    "ok": _l("Signed in"),
    "bad_password": _l("Wrong password"),
    "unknown_account": _l("No such account"),
    "inactive": _l("Account disabled"),
    "throttled": _l("Too many failed attempts"),
}


# The tables each tenant owns rows of, by the column that names the tenant.
SCHOOL_OWNED = (Programme, Agreement, Event, EventExecution, Seminar, Limitation, Remark, StoredFile)
CATALOGS = (PartnerKind, EventKind, EventLevel, Audience, Position, EducationLevel, FgosResult)


# The relations each model's __str__ reads: loaded with the row wherever the row is
# a label (pickers, details, forms, the trash), so that a label costs no statement.
LABEL_RELATIONS: dict[type, tuple[str, ...]] = {
    Agreement: ("school", "partner"),
    PartnerResource: ("partner",),
    EventExecution: ("event",),
    CalendarFeed: ("school", "partner"),
}


def label_loads(model: type) -> list[Any]:
    """Loader options that bring the relations the model's label needs."""
    return [joinedload(getattr(model, name)) for name in LABEL_RELATIONS.get(model, ())]
