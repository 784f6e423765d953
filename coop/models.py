"""Every table of Coop (DESIGN.md fixes this single module)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

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
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    false,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, column_property, declared_attr, joinedload, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

if TYPE_CHECKING:
    from .extensions import Model as Base  # what db.Model is made from, as the checker sees it
else:
    Base = db.Model
from .timing import Timing, months_from_mask, parse_timing


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- choice sets that code depends on (states, roles, spheres) -------------------
# Catalogs that users extend (kinds, levels, positions…) are tables further down.
# Each set is a column's "choices" in its info, beside the column's "label": the
# views, the history and the documents read both there (coop/labels.py).

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
    "returned": _l("Returned for revision"),
    "submitted": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "cancelled": _l("Cancelled"),
}
# States a line no longer takes, named as the history recorded them (migration 0010_held).
FORMER_EVENT_STATES = {"held": _l("Held")}
# What became of a plan line in one academic year (EventExecution.status): "held in
# year Y" is a record of Y with status held, never a state of the line itself.
EXECUTION_STATUSES = {
    "planned": _l("Planned"),
    "held": _l("Held"),
    "not_held": _l("Not held"),
    "cancelled": _l("Cancelled"),
    # Said by the partner's contact by a link (coop/confirmations.py), not yet by the
    # school: counted nowhere (coop/plan_io/plan.py COUNTED) until the school confirms it.
    "reported": _l("Reported by the partner, awaiting confirmation"),
}
REMARK_STATES = {
    "open": _l("Open"),
    "answered": _l("Answered"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
# What a history entry records (coop/history.py writes them).
HISTORY_ACTIONS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Moved to the trash"),
    "restore": _l("Restored from the trash"),
    "transition": _l("State changed"),
    "purge": _l("Deleted for good"),
}


# Fields added in the site (FieldDefinition, coop/added_fields.py): the records they
# are added to, the kinds of value they hold, and who fills them.
FIELD_MODELS = {
    "execution": _l("Yearly record of a plan line"),
    "event": _l("Plan line"),
    "agreement": _l("Agreement"),
    "partner": _l("Partner"),
    "programme": _l("Programme"),
    "seminar": _l("Seminar"),
    "school": _l("School"),
}
FIELD_KINDS = {
    "text": _l("Short text"),
    "long_text": _l("Long text"),
    "integer": _l("Whole number"),
    "decimal": _l("Decimal number"),
    "date": _l("Date"),
    "boolean": _l("Yes/no"),
    "choice": _l("One of a list"),
    "choices": _l("Several of a list"),
    "url": _l("Link"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
}
FIELD_FILLERS = {
    "school": _l("The school"),
    "partner": _l("The partner"),
    "school_partner": _l("The school and the partner"),
}

# States have no column default: workflow.start sets the initial one at flush.

# --- mixins ----------------------------------------------------------------------


class Tracked:
    """Who created and changed a row and when, plus a version for conflict checks.

    SQLAlchemy bumps `version` on every UPDATE and refuses a stale one, so two
    people saving the same row cannot silently overwrite each other.
    Its columns are "bookkeeping" (info): a details page shows none of them, but
    one line «Создано: who, when; изменено: …» (coop/views/base.py).
    """

    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, info={"label": _l("Created at"), "bookkeeping": True}
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, info={"label": _l("Changed at"), "bookkeeping": True}
    )
    version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=1, info={"label": _l("Version"), "bookkeeping": True}
    )
    # In the trash when set; rows deleted together share a batch and are restored together.
    deleted_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime, index=True, info={"label": _l("In the trash since"), "bookkeeping": True}
    )
    deleted_batch: Mapped[str | None] = mapped_column(
        String(32), index=True, info={"label": _l("Trash batch"), "bookkeeping": True}
    )

    # Plain ids, not foreign keys: users and schools refer to each other, and the
    # trail must outlive a deleted user.
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, info={"label": _l("Created by (user ID)"), "bookkeeping": True}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        Integer, info={"label": _l("Changed by (user ID)"), "bookkeeping": True}
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805
        return {"version_id_col": cls.version}


def added_values() -> Mapped[dict[str, Any]]:
    """The values of a row's fields added in the site (coop/added_fields.py): an object
    from each field's key to its value, checked against the definitions at every flush."""
    return mapped_column(
        JSON().with_variant(JSONB(), "postgresql"),
        default=dict,
        server_default=text("'{}'"),
        nullable=False,
        info={"label": _l("Added fields"), "added_fields": True},
    )


class Catalog(Tracked):
    """An admin-editable choice list: a name, an order, and whether it is offered."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, info={"label": _l("Name")})
    sort_order: Mapped[int] = mapped_column(Integer, default=100, info={"label": _l("Order")})
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Offered")})

    def __str__(self) -> str:
        return self.name

    @classmethod
    def sql_label(cls) -> Any:
        """__str__ as SQL: a picker's options read as (id, label) rows (views/loading.py)."""
        return cls.name


# --- catalogs --------------------------------------------------------------------


class PartnerKind(Catalog, Base):
    __tablename__ = "partner_kinds"


class EventKind(Catalog, Base):
    __tablename__ = "event_kinds"


class EventLevel(Catalog, Base):
    __tablename__ = "event_levels"


class Audience(Catalog, Base):
    __tablename__ = "audiences"
    code: Mapped[str] = mapped_column(String(32), unique=True, info={"label": _l("Code")})


class Position(Catalog, Base):
    """A responsible position in a school («Заместитель директора по УВР»)."""

    __tablename__ = "positions"


class EducationLevel(Catalog, Base):
    """НОО 1–4, ООО 5–9, СОО 10–11."""

    __tablename__ = "education_levels"
    code: Mapped[str] = mapped_column(String(8), unique=True, info={"label": _l("Code")})
    grades: Mapped[str] = mapped_column(String(16), default="", info={"label": _l("Grades")})


class FgosResult(Tracked, Base):
    """An educational result of the ФГОС: personal, meta-subject (УУД) or subject."""

    __tablename__ = "fgos_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, info={"label": _l("Code")})
    group: Mapped[str] = mapped_column(String(64), info={"label": _l("Group")})
    subgroup: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("Subgroup")})
    title: Mapped[str] = mapped_column(String(500), info={"label": _l("Result")})
    sort_order: Mapped[int] = mapped_column(Integer, default=100, info={"label": _l("Order")})
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Offered")})

    def __str__(self) -> str:
        prefix = self.subgroup or self.group
        return f"{prefix}: {self.title}"

    @classmethod
    def sql_label(cls) -> Any:
        """__str__ as SQL (see Catalog.sql_label)."""
        return func.coalesce(func.nullif(cls.subgroup, ""), cls.group) + ": " + cls.title


# --- tenants and directory -------------------------------------------------------


class School(Tracked, Base):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(primary_key=True)
    extra: Mapped[dict[str, Any]] = added_values()
    name: Mapped[str] = mapped_column(String(500), unique=True, info={"label": _l("Full name")})
    short_name: Mapped[str] = mapped_column(String(255), unique=True, info={"label": _l("Short name")})
    city: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("City")})
    address: Mapped[str] = mapped_column(String(500), default="", info={"label": _l("Address")})
    director: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Director")})
    email: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("E-mail")})
    phone: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("Phone")})

    def __str__(self) -> str:
        return self.short_name or self.name

    @classmethod
    def sql_label(cls) -> Any:
        """__str__ as SQL (see Catalog.sql_label)."""
        return func.coalesce(func.nullif(cls.short_name, ""), cls.name)


class Partner(Tracked, Base):
    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(primary_key=True)
    extra: Mapped[dict[str, Any]] = added_values()
    name: Mapped[str] = mapped_column(String(500), unique=True, info={"label": _l("Full name")})
    short_name: Mapped[str] = mapped_column(
        String(255), default="", index=True, info={"label": _l("Short name")}
    )
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("partner_kinds.id"), index=True)
    sphere: Mapped[str] = mapped_column(
        String(32), default="educational", info={"label": _l("Sphere"), "choices": SPHERES}
    )
    city: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("City")})
    address: Mapped[str] = mapped_column(String(500), default="", info={"label": _l("Address")})
    contact_person: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Contact person")})
    phone: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("Phone")})
    email: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("E-mail")})
    website: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Website")})
    description: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Description")})

    kind: Mapped[PartnerKind | None] = relationship(info={"label": _l("Kind")})
    resources: Mapped[list[PartnerResource]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", info={"label": _l("Resources offered")}
    )

    def __str__(self) -> str:
        return self.short_name or self.name

    @classmethod
    def sql_label(cls) -> Any:
        """__str__ as SQL (see Catalog.sql_label)."""
        return func.coalesce(func.nullif(cls.short_name, ""), cls.name)


class PartnerResource(Tracked, Base):
    """What a partner offers for reaching ФГОС results: labs, experts, venues…"""

    __tablename__ = "partner_resources"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500), info={"label": _l("Resource")})
    description: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Description")})

    partner: Mapped[Partner] = relationship(back_populates="resources", info={"label": _l("Partner")})

    def __str__(self) -> str:
        return f"{self.partner}: {self.title}" if self.partner else self.title


# --- programme and agreements ----------------------------------------------------


class Programme(Tracked, Base):
    __tablename__ = "programmes"
    __table_args__ = (CheckConstraint("last_year >= first_year", name="year_span"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    extra: Mapped[dict[str, Any]] = added_values()
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    title: Mapped[str] = mapped_column(String(500), info={"label": _l("Title")})
    first_year: Mapped[int] = mapped_column(Integer, index=True, info={"label": _l("First year")})
    last_year: Mapped[int] = mapped_column(Integer, index=True, info={"label": _l("Last year")})
    state: Mapped[str] = mapped_column(String(32), info={"label": _l("State"), "choices": PROGRAMME_STATES})
    innovation_status: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Status")})
    rationale: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Explanatory note")})
    goal: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Goal")})
    tasks: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Tasks")})
    results_municipal: Mapped[str] = mapped_column(
        Text, default="", info={"label": _l("Expected results: municipal system")}
    )
    results_students: Mapped[str] = mapped_column(
        Text, default="", info={"label": _l("Expected results: students")}
    )
    results_teachers: Mapped[str] = mapped_column(
        Text, default="", info={"label": _l("Expected results: teachers")}
    )
    results_parents: Mapped[str] = mapped_column(
        Text, default="", info={"label": _l("Expected results: parents")}
    )

    school: Mapped[School] = relationship(info={"label": _l("School")})

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


class Agreement(Tracked, Base):
    """An agreement of a school with a partner within a programme.

    The network form (art. 15 of 273-ФЗ) must name the programme's kind, level and
    focus, the status of students, who does what with which resources, the
    documents issued and the term; those fields stay empty for an ordinary one.
    """

    __tablename__ = "agreements"
    # The home page's agreements about to end, per school (coop/attention.py).
    __table_args__ = (Index("ix_agreements_valid_to", "valid_to", "state", "school_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    extra: Mapped[dict[str, Any]] = added_values()
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    agreement_type: Mapped[str] = mapped_column(
        String(32), default="cooperation", info={"label": _l("Type"), "choices": AGREEMENT_TYPES}
    )
    number: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("Number")})
    signed_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Signed on")})
    valid_from: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Valid from")})
    valid_to: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Valid to")})
    subject: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Subject")})
    state: Mapped[str] = mapped_column(String(32), info={"label": _l("State"), "choices": AGREEMENT_STATES})
    # Network form only (art. 15 of 273-ФЗ).
    programme_kind: Mapped[str] = mapped_column(
        String(255), default="", info={"label": _l("Kind of educational programme")}
    )
    programme_level: Mapped[str] = mapped_column(
        String(255), default="", info={"label": _l("Level of educational programme")}
    )
    programme_focus: Mapped[str] = mapped_column(
        String(255), default="", info={"label": _l("Focus of educational programme")}
    )
    student_status: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Status of students")})
    responsibilities: Mapped[str] = mapped_column(
        Text, default="", info={"label": _l("Who does what with which resources")}
    )
    issued_documents: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Documents issued")})
    term: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Term")})

    school: Mapped[School] = relationship(info={"label": _l("School")})
    partner: Mapped[Partner] = relationship(info={"label": _l("Partner")})
    programme: Mapped[Programme | None] = relationship(info={"label": _l("Programme")})
    fgos_results: Mapped[list[FgosResult]] = relationship(
        secondary=agreement_fgos_results, info={"label": _l("Agreed FGOS results")}
    )
    levels: Mapped[list[EducationLevel]] = relationship(
        secondary=agreement_levels, info={"label": _l("Education levels")}
    )

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


class Event(Tracked, Base):
    """A line of the network plan, entered once and repeated every academic year
    from first_year to last_year; each year's execution is an EventExecution."""

    __tablename__ = "events"
    # The review queue: lines awaiting approval, oldest first.
    __table_args__ = (
        # With the school: the home page counts the proposals waiting too long per school
        # from the index alone (coop/attention.py).
        Index(
            "ix_events_state_updated_at",
            "state",
            "updated_at",
            "school_id",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        # The read API's order (coop/api_v1.py): pages of every school's lines by (updated_at, id).
        Index("ix_events_updated_at_id", "updated_at", "id"),
        # A school's years (coop/views/pickers.py year_choice): its latest line's last year.
        # Without it PostgreSQL walked every school's lines down the last_year index to the
        # first of this school's (58,000 rows at 1,000 schools: 41 ms a calendar page).
        Index(
            "ix_events_school_last_year",
            "school_id",
            "last_year",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        # A list's deep page: the ids of the rows not in the trash walked from the index alone,
        # not from the table row by row to read deleted_at.
        Index(
            "ix_events_live_id",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    extra: Mapped[dict[str, Any]] = added_values()
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer, info={"label": _l("No.")})
    title: Mapped[str] = mapped_column(Text, info={"label": _l("Event")})
    section: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Section")})
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("event_kinds.id"), index=True)
    level_id: Mapped[int | None] = mapped_column(ForeignKey("event_levels.id"), index=True)
    audience_id: Mapped[int | None] = mapped_column(ForeignKey("audiences.id"), index=True)
    grades: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("Grades")})
    timing_text: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Timing")})
    months_mask: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Months")})
    all_year: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("All year")})
    start_date: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Start date")})
    end_date: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("End date")})
    timing_recognized: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Timing read")})
    first_year: Mapped[int | None] = mapped_column(
        Integer, index=True, info={"label": _l("From academic year"), "academic_year": True}
    )
    last_year: Mapped[int | None] = mapped_column(
        Integer, index=True, info={"label": _l("To academic year"), "academic_year": True}
    )
    state: Mapped[str] = mapped_column(
        String(32),
        index=True,
        info={"label": _l("State"), "choices": EVENT_STATES, "former_choices": FORMER_EVENT_STATES},
    )
    description: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Description")})
    # Responsible positions that are not in the catalog, as written (a school's import
    # keeps them here: only an admin adds to the catalog).
    responsible_other: Mapped[str] = mapped_column(
        Text, default="", server_default="", info={"label": _l("Other responsible (not in the catalog)")}
    )

    school: Mapped[School] = relationship(info={"label": _l("School")})
    partner: Mapped[Partner] = relationship(info={"label": _l("Partner")})
    programme: Mapped[Programme | None] = relationship(info={"label": _l("Programme")})
    kind: Mapped[EventKind | None] = relationship(info={"label": _l("Kind")})
    level: Mapped[EventLevel | None] = relationship(info={"label": _l("Level")})
    audience: Mapped[Audience | None] = relationship(info={"label": _l("Audience")})
    responsible: Mapped[list[Position]] = relationship(
        secondary=event_positions, info={"label": _l("Responsible")}
    )
    fgos_results: Mapped[list[FgosResult]] = relationship(
        secondary=event_fgos_results, info={"label": _l("FGOS results")}
    )
    executions: Mapped[list[EventExecution]] = relationship(
        back_populates="event", cascade="all, delete-orphan", info={"label": _l("Execution by year")}
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


class EventExecution(Tracked, Base):
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
        # The review queue's count in every page's menu: the few partners' reports waiting
        # (workflow.REPORTED), not a scan of every year's records. Partial on PostgreSQL;
        # SQLite cannot use a partial index for a bound parameter, so there it holds every row.
        Index("ix_event_executions_reported", "status", postgresql_where=text("status = 'reported'")),
        # The read API's order (coop/api_v1.py), as the events'.
        Index("ix_event_executions_updated_at_id", "updated_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    extra: Mapped[dict[str, Any]] = added_values()
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # Copied from the event so that the tenant filter needs no join.
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, info={"label": _l("Academic year"), "academic_year": True})
    status: Mapped[str] = mapped_column(
        String(32), default="planned", info={"label": _l("Status"), "choices": EXECUTION_STATUSES}
    )
    held_on: Mapped[dt.date | None] = mapped_column(Date, index=True, info={"label": _l("Held on")})
    held_until: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Held until")})
    students_count: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Students")})
    students_grades: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("Grades")})
    teachers_count: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Teachers")})
    parents_count: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Parents")})
    results: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Results")})
    evidence_url: Mapped[str] = mapped_column(String(500), default="", info={"label": _l("Evidence (link)")})

    event: Mapped[Event] = relationship(back_populates="executions", info={"label": _l("Event")})
    school: Mapped[School] = relationship(info={"label": _l("School")})

    def __str__(self) -> str:
        return f"{self.event} — {self.year}/{self.year + 1}"


# --- seminars, limitations, remarks ----------------------------------------------

seminar_partners = Table(
    "seminar_partners",
    db.metadata,
    Column("seminar_id", ForeignKey("seminars.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
)


class Seminar(Tracked, Base):
    """A seminar of one of the four cycles of the innovation project."""

    __tablename__ = "seminars"
    id: Mapped[int] = mapped_column(primary_key=True)
    extra: Mapped[dict[str, Any]] = added_values()
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    cycle: Mapped[str] = mapped_column(String(32), info={"label": _l("Cycle"), "choices": SEMINAR_CYCLES})
    held_on: Mapped[dt.date | None] = mapped_column(Date, index=True, info={"label": _l("Date")})
    topic: Mapped[str] = mapped_column(String(500), info={"label": _l("Topic")})
    participants: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Participants")})
    participants_count: Mapped[int] = mapped_column(
        Integer, default=0, info={"label": _l("Number of participants")}
    )
    minutes: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Minutes")})
    decisions: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Decisions")})
    documents: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Documents produced")})

    school: Mapped[School] = relationship(info={"label": _l("School")})
    programme: Mapped[Programme | None] = relationship(info={"label": _l("Programme")})
    partners: Mapped[list[Partner]] = relationship(
        secondary=seminar_partners, info={"label": _l("Partners taking part")}
    )
    limitations: Mapped[list[Limitation]] = relationship(
        back_populates="seminar", info={"label": _l("Limitations found")}
    )

    def __str__(self) -> str:
        return self.topic


class Limitation(Tracked, Base):
    """Something a school cannot do alone, found at a seminar, and the partner
    resource that addresses it."""

    __tablename__ = "limitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    seminar_id: Mapped[int | None] = mapped_column(ForeignKey("seminars.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("partner_resources.id"), index=True)
    title: Mapped[str] = mapped_column(String(500), info={"label": _l("Limitation")})
    description: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Description")})

    school: Mapped[School] = relationship(info={"label": _l("School")})
    seminar: Mapped[Seminar | None] = relationship(
        back_populates="limitations", info={"label": _l("Found at seminar")}
    )
    resource: Mapped[PartnerResource | None] = relationship(
        info={"label": _l("Addressed by partner's resource")}
    )

    @property
    def is_addressed(self) -> bool:
        return self.resource_id is not None

    def __str__(self) -> str:
        return self.title


class Remark(Tracked, Base):
    """An audit remark of the coordinator on a programme, agreement or event."""

    __tablename__ = "remarks"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    text: Mapped[str] = mapped_column(Text, info={"label": _l("Remark")})
    response: Mapped[str] = mapped_column(Text, default="", info={"label": _l("School's answer")})
    state: Mapped[str] = mapped_column(String(32), info={"label": _l("State"), "choices": REMARK_STATES})

    school: Mapped[School] = relationship(info={"label": _l("School")})
    programme: Mapped[Programme | None] = relationship(info={"label": _l("Programme")})
    agreement: Mapped[Agreement | None] = relationship(info={"label": _l("Agreement")})
    event: Mapped[Event | None] = relationship(info={"label": _l("Event")})

    def __str__(self) -> str:
        return self.text[:80]


# --- files ----------------------------------------------------------------------


class StoredFile(Tracked, Base):
    """A file attached to a school's row (agreement document, evidence, minutes).

    Its bytes are in the database (stored_file_contents, below), so that every app
    server serves them; served only through coop.uploads, which asks the policy
    about this row first. stored_name is the random name the file had on disk
    before (migration 0019_files_in_db) and still names it uniquely.
    """

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_owner", "owner_table", "owner_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    owner_table: Mapped[str] = mapped_column(String(64), info={"label": _l("Table")})
    owner_id: Mapped[int] = mapped_column(Integer, info={"label": _l("Row")})
    original_name: Mapped[str] = mapped_column(String(255), info={"label": _l("File name")})
    stored_name: Mapped[str] = mapped_column(String(64), unique=True, info={"label": _l("Stored as")})
    content_type: Mapped[str] = mapped_column(String(128), info={"label": _l("Type of content")})
    size: Mapped[int] = mapped_column(Integer, info={"label": _l("Size, bytes")})
    sha256: Mapped[str] = mapped_column(String(64), info={"label": _l("Checksum (SHA-256)")})

    school: Mapped[School] = relationship(info={"label": _l("School")})

    def __str__(self) -> str:
        return self.original_name


# The bytes of each stored file, one row per file. Not a mapped class: no query reaches
# them but coop.uploads', by the id of a StoredFile the policy has let the user load.
# A purged file takes its bytes with it; one in the trash keeps them.
stored_file_contents = Table(
    "stored_file_contents",
    db.metadata,
    Column("stored_file_id", ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)


# --- history ---------------------------------------------------------------------


class History(Base):
    """An append-only record of every change: written by coop.history from session
    events, never through a view."""

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True, info={"label": _l("When")})
    user_id: Mapped[int | None] = mapped_column(Integer, index=True, info={"label": _l("Who (user ID)")})
    user_email: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Who")})
    ip: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("IP address")})
    action: Mapped[str] = mapped_column(
        String(32), info={"label": _l("Action"), "choices": HISTORY_ACTIONS}
    )  # create, update, delete, restore, transition
    table_name: Mapped[str] = mapped_column(String(64), info={"label": _l("Table")})
    row_id: Mapped[int] = mapped_column(Integer, info={"label": _l("Row")})
    row_version: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Version")})
    school_id: Mapped[int | None] = mapped_column(
        Integer, index=True, info={"label": _l("School (ID)")}
    )  # for the tenant filter
    summary: Mapped[str] = mapped_column(String(500), default="", info={"label": _l("Record")})
    changes: Mapped[dict] = mapped_column(
        JSON, default=dict, info={"label": _l("Changes")}
    )  # field: [before, after]
    comment: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Comment")})

    __table_args__ = (Index("ix_history_row", "table_name", "row_id"),)

    def __str__(self) -> str:
        return f"{self.action} {self.table_name} #{self.row_id}"


# --- calendar subscriptions --------------------------------------------------------


class CalendarFeed(Tracked, Base):
    """A secret-token iCalendar URL for one school's or one partner's plan.

    Regenerating the token revokes the old URL; the feed is read with the
    rights of that school or partner, so it shows what its users would see.
    """

    __tablename__ = "calendar_feeds"
    __table_args__ = (CheckConstraint("(school_id IS NULL) != (partner_id IS NULL)", name="one_owner"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, info={"label": _l("Access key")})
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), unique=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), unique=True)

    school: Mapped[School | None] = relationship(info={"label": _l("School")})
    partner: Mapped[Partner | None] = relationship(info={"label": _l("Partner")})

    def __str__(self) -> str:
        return str(self.school or self.partner)


# --- users -----------------------------------------------------------------------


class User(UserMixin, Tracked, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role != 'school' OR school_id IS NOT NULL) AND (role != 'partner' OR partner_id IS NOT NULL)",
            name="tenant_for_role",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, info={"label": _l("E-mail")})
    name: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Name")})
    password_hash: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Password")})
    role: Mapped[str] = mapped_column(String(32), info={"label": _l("Role"), "choices": ROLES})
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Active")})
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime, info={"label": _l("Last sign-in")})
    # A temporary password set by an administrator: the user must replace it
    # before anything else opens (coop/auth.py).
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), info={"label": _l("Temporary password")}
    )

    school: Mapped[School | None] = relationship(foreign_keys=[school_id], info={"label": _l("School")})
    partner: Mapped[Partner | None] = relationship(foreign_keys=[partner_id], info={"label": _l("Partner")})

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active) and self.deleted_at is None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return self.name or self.email


class UserSession(Base):
    """A signed-in session (coop/sessions.py): the browser's cookie carries a random key,
    this row only its SHA-256 hash. Ending a session deletes its row. Written by
    coop.sessions, never through a form."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    # A purged account takes its sessions with it.
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, info={"label": _l("Account")}
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, info={"label": _l("Key (hash)")})
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, info={"label": _l("Started")})
    last_seen_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, info={"label": _l("Last seen")}
    )
    ip: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("IP address")})
    user_agent: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Browser")})

    def __str__(self) -> str:
        return f"{self.ip} {self.created_at:%d.%m.%Y %H:%M}" if self.created_at else self.ip


class ApiToken(Base):
    """A personal token of the read API /api/v1/ (coop/api_tokens.py): made on the «API
    tokens» page and shown once; only its SHA-256 is kept. It reads as its account does,
    until it expires or is revoked, and stops with the account."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    # A purged account takes its tokens with it.
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, info={"label": _l("Account")}
    )
    name: Mapped[str] = mapped_column(String(100), info={"label": _l("Name")})
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, info={"label": _l("Secret's SHA-256")})
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, info={"label": _l("Created")})
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, info={"label": _l("Valid until")})
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, info={"label": _l("Last used")})
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, info={"label": _l("Revoked")})

    def __str__(self) -> str:
        return self.name


class StagedImport(Base):
    """A plan's file uploaded for import, waiting between the preview and the confirmation
    (coop/views/plan_import.py): in the database, so that any app server shows the preview
    and takes the confirmation. Only its uploader finds it, by the random token in the
    page's address; confirmed or cancelled it is deleted, left over it goes after a day."""

    __tablename__ = "staged_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, info={"label": _l("Token")})
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, info={"label": _l("Account")}
    )
    school_id: Mapped[int] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), info={"label": _l("School")}
    )
    year: Mapped[int] = mapped_column(Integer, info={"label": _l("Academic year")})
    filename: Mapped[str] = mapped_column(String(255), info={"label": _l("File name")})
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, info={"label": _l("Content")})
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, index=True, info={"label": _l("Uploaded")}
    )

    def __str__(self) -> str:
        return self.filename


SIGN_IN_REASONS = {
    "ok": _l("Signed in"),
    "bad_password": _l("Wrong password"),
    "unknown_account": _l("No such account"),
    "inactive": _l("Account disabled"),
    "throttled": _l("Too many failed attempts"),
}


class SignIn(Base):
    """An attempt to sign in, successful or not: the sign-in log (admin only),
    kept apart from the history of changes. Written by coop.auth, never through a view."""

    __tablename__ = "sign_ins"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True, info={"label": _l("When")})
    # A plain id, as in the history: the log outlives the account; None for an unknown e-mail.
    user_id: Mapped[int | None] = mapped_column(Integer, index=True, info={"label": _l("Account no.")})
    email: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("E-mail as typed")})
    ip: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("IP address")})
    user_agent: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Browser")})
    success: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("Success")})
    reason: Mapped[str] = mapped_column(
        String(32), default="", info={"label": _l("Result"), "choices": SIGN_IN_REASONS}
    )

    def __str__(self) -> str:
        return f"{self.email} {self.at:%d.%m.%Y %H:%M}" if self.at else self.email


NOTIFICATION_KINDS = {
    "event_submitted": _l("An event was submitted for approval"),
    "event_approved": _l("An event was approved"),
    "event_returned": _l("An event was returned for revision"),
    "remark_created": _l("A new remark"),
    "remark_answered": _l("A remark was answered"),
    "password_reset": _l("Password recovery"),
    "invitation": _l("An invitation"),
    "event_confirmation": _l("A request to confirm an event"),
    "agreement_ending_60": _l("An agreement ends within 60 days"),
    "agreement_ending_30": _l("An agreement ends within 30 days"),
    "plan_unrecorded": _l("Past months' plan lines with no record (monthly)"),
    "review_waiting": _l("An event has awaited approval for over 7 days"),
    "outcome_reported": _l("A partner reported an event's outcome"),
    "data_request_submitted": _l("A school submitted its answer to a data request"),
    "data_request_returned": _l("An answer to a data request was returned for revision"),
    "data_request_due_7": _l("A data request is due within 7 days"),
    "data_request_due_1": _l("A data request is due tomorrow or today"),
    "data_request_overdue": _l("A data request's deadline has passed"),
    "digest": _l("Daily digest"),
}
# How a user receives a kind of notification by mail (NotificationPreference); the site
# lists every notification whatever is chosen.
DELIVERIES = {
    "now": _l("At once"),
    "digest": _l("In a daily digest"),
    "off": _l("Off"),
}


DIGEST = "digest"  # the kind of a daily digest message (coop/outbox.py writes them)


class Notification(Base):
    """One message to one user (coop/notify.py decides who): the outbox the mail worker
    delivers from (sent_at) and the user's list in the site (read_at). Written in the
    same transaction as the change it tells of, never through a view."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The worker's queue: unsent messages by when they are due.
        Index("ix_notifications_due", "sent_at", "next_attempt_at"),
        # A reminder (coop/reminders.py) reaches each user once per occasion, a digest once a day.
        UniqueConstraint("user_id", "dedupe_key", name="notification_once"),
        # The daily digest's queue: what waits for the user's next digest.
        Index("ix_notifications_digest", "delivery", "digest_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), info={"label": _l("Kind"), "choices": NOTIFICATION_KINDS})
    # A purged account takes its messages with it. None: an address without an
    # account (an invitation, a partner's contact asked to confirm an event).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, info={"label": _l("Recipient")}
    )
    email: Mapped[str] = mapped_column(String(255), info={"label": _l("E-mail")})
    # The tenant the message is about (None: none in particular).
    school_id: Mapped[int | None] = mapped_column(Integer, index=True, info={"label": _l("School (ID)")})
    subject: Mapped[str] = mapped_column(String(255), info={"label": _l("Subject")})
    body_text: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Text")})
    body_html: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Text (HTML)")})
    link: Mapped[str] = mapped_column(String(500), default="", info={"label": _l("Link")})
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, info={"label": _l("When")})
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, info={"label": _l("Sent")})
    attempts: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Attempts")})
    next_attempt_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, info={"label": _l("Next attempt")}
    )
    last_error: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Last error")})
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime, info={"label": _l("Read")})
    # By mail at once, in the recipient's daily digest, or not at all: their preference
    # for the kind when the notification was written.
    delivery: Mapped[str] = mapped_column(
        String(16), default="now", server_default="now", info={"label": _l("By mail"), "choices": DELIVERIES}
    )
    # What makes a reminder or a digest one of a kind (with user_id): written once.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), info={"label": _l("Occasion")})
    # The digest that carried it by mail (delivery "digest").
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), info={"label": _l("Sent in digest")}
    )

    @classmethod
    def in_site(cls) -> Any:
        """The notifications the site lists and the bell counts: all but the digests,
        which only gather by mail what the site lists one by one."""
        return cls.kind != DIGEST

    @property
    def message(self) -> str:
        """The text without its signature (after the "-- " line): what the site lists."""
        return self.body_text.partition("\n-- \n")[0].strip()

    def __str__(self) -> str:
        return self.subject


TOKEN_PURPOSES = {
    "password_reset": _l("Password recovery"),
    "invitation": _l("Invitation"),
    "event_confirmation": _l("Event confirmation by the partner"),
}


class Token(Base):
    """The secret of a link sent by mail (coop/tokens.py): one purpose, an expiry, used
    once. Only the secret's SHA-256 is stored; the columns say what the link may touch."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), info={"label": _l("Purpose"), "choices": TOKEN_PURPOSES})
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, info={"label": _l("Secret's SHA-256")})
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, info={"label": _l("Created")})
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, info={"label": _l("Valid until")})
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, info={"label": _l("Used")})
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": _l("Created by (user ID)")}
    )
    # What the link is for: an account (a reset), an address with a role and a tenant
    # (an invitation), an event's year (a partner's confirmation).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, info={"label": _l("Account no.")}
    )
    email: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("E-mail")})
    # An invitation: the invited person's name as the inviter wrote it (they may correct it).
    name: Mapped[str] = mapped_column(String(255), default="", server_default="", info={"label": _l("Name")})
    role: Mapped[str | None] = mapped_column(String(32), info={"label": _l("Role"), "choices": ROLES})
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), info={"label": _l("School")}
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), info={"label": _l("Partner")}
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), info={"label": _l("Event")}
    )
    year: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Academic year")})

    def __str__(self) -> str:
        return str(TOKEN_PURPOSES.get(self.purpose, self.purpose))


class SchoolYearFigure(Base):
    """A row of the figures kept for a school and an academic year (coop/summary.py keeps
    them exact at every flush; coop/figures.py reads them). The layout of coop.figures'
    tagged rows: which figure, up to two codes (an agreement's type and state, a seminar's
    cycle) and up to seven numbers."""

    __tablename__ = "school_year_figures"
    __table_args__ = (
        Index("ix_school_year_figures_year_school", "year", "school_id"),
        # One figure of every school (the totals, the home page's lines without a record):
        # read from the index alone.
        Index("ix_school_year_figures_year_figure", "year", "figure", "school_id", "number0", "number1"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), info={"label": _l("School (ID)")}
    )
    year: Mapped[int] = mapped_column(Integer, info={"label": _l("Academic year")})
    figure: Mapped[str] = mapped_column(String(16), info={"label": _l("Figure")})
    text0: Mapped[str | None] = mapped_column(String(64), info={"label": _l("Code")})
    text1: Mapped[str | None] = mapped_column(String(64), info={"label": _l("Code")})
    number0: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Number")})
    number1: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Number")})
    number2: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Number")})
    number3: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Number")})
    number4: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Number")})
    number5: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Number")})
    number6: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Number")})


class FigureYear(Base):
    """An academic year whose figures are kept (SchoolYearFigure) for every school; the
    figures of any other year are counted from the rows when asked for."""

    __tablename__ = "figure_years"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True, info={"label": _l("Academic year")})
    # The totals of all schools (coop.figures) sum every school's kept rows: at 10,000
    # schools, hundreds of thousands. Every transaction that may change them adds 1 to
    # `version` (coop.summary); `totals` holds them as counted at a version, read while
    # the two agree.
    version: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", info={"label": _l("Version")}
    )
    totals: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), info={"label": _l("Totals of all schools")}
    )
    # What needs attention in all schools (coop.attention), as counted at a version on a day.
    attention: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), info={"label": _l("Attention in all schools")}
    )


# The bell in the menu bar: the user's unread notifications, read in the statement that
# loads the user on every request (no statement of its own); counted up to a cap, as
# every count on a page is (the bell then says «99+»).
UNREAD_CAP = 99
_unread = (
    select(Notification.id)
    .where(Notification.user_id == User.id, Notification.read_at.is_(None), Notification.in_site())
    .correlate_except(Notification)
    .limit(UNREAD_CAP + 1)
    .subquery()
)
User.unread_notifications = column_property(
    select(func.count()).select_from(_unread).scalar_subquery(),
    info={"label": _l("Unread notifications")},
)


class NotificationPreference(Base):
    """How a user receives one kind of notification by mail; none: at once."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="preference_per_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), info={"label": _l("User")}
    )
    kind: Mapped[str] = mapped_column(String(32), info={"label": _l("Kind"), "choices": NOTIFICATION_KINDS})
    delivery: Mapped[str] = mapped_column(String(16), info={"label": _l("By mail"), "choices": DELIVERIES})

    def __str__(self) -> str:
        return f"{self.kind}: {self.delivery}"


class ChoiceList(Tracked, Base):
    """A list of choices for the added fields of the choice kinds: the municipality's
    (no school) or one school's own. The items are the values kept, one per line."""

    __tablename__ = "choice_lists"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(255), info={"label": _l("Name")})
    items: Mapped[list[str]] = mapped_column(JSON, default=list, info={"label": _l("Choices")})

    school: Mapped[School | None] = relationship(info={"label": _l("School (its own list)")})

    def __str__(self) -> str:
        return self.name

    @classmethod
    def sql_label(cls) -> Any:
        """__str__ as SQL (see Catalog.sql_label)."""
        return cls.name


class FieldDefinition(Tracked, Base):
    """A field added in the site to one kind of record (FIELD_MODELS): the municipality's
    (no school; the admin defines it, the coordinator proposes it switched off) or one
    school's own. Its values are in each record's `extra` under its key."""

    __tablename__ = "field_definitions"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    model: Mapped[str] = mapped_column(String(16), info={"label": _l("Record"), "choices": FIELD_MODELS})
    key: Mapped[str] = mapped_column(String(64), default="", info={"label": _l("Key")})
    label: Mapped[str] = mapped_column(String(255), info={"label": _l("Label")})
    label_en: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Label in English")})
    kind: Mapped[str] = mapped_column(String(16), info={"label": _l("Kind of value"), "choices": FIELD_KINDS})
    choice_list_id: Mapped[int | None] = mapped_column(ForeignKey("choice_lists.id"), index=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("Required")})
    help_text: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Hint")})
    group: Mapped[str] = mapped_column(String(255), default="", info={"label": _l("Group of fields")})
    sort_order: Mapped[int] = mapped_column(Integer, default=100, info={"label": _l("Order")})
    filled_by: Mapped[str] = mapped_column(
        String(16), default="school", info={"label": _l("Filled in by"), "choices": FIELD_FILLERS}
    )
    in_list: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("Shown in the list")})
    in_plan_document: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"label": _l("A column of the plan's document")}
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Switched on")})

    school: Mapped[School | None] = relationship(info={"label": _l("School (its own field)")})
    choice_list: Mapped[ChoiceList | None] = relationship(info={"label": _l("Choice list")})

    def __str__(self) -> str:
        return self.label


# The fields added in the site as they stand, read in the statement that loads the user on
# every request: coop/added_fields.py reads the definitions again only when this changes.
def _state_of(model: Any) -> Any:
    return (
        select(
            cast(func.count(), String)
            + ":"
            + func.coalesce(cast(func.sum(model.version), String), "")
            + ":"
            + func.coalesce(cast(func.max(model.id), String), "")
            + ":"
            + func.coalesce(cast(func.max(model.updated_at), String), "")
        )
        .correlate_except(model)
        .scalar_subquery()
    )


User.added_fields_state = column_property(
    _state_of(FieldDefinition) + "/" + _state_of(ChoiceList),
    info={"label": _l("State of the added fields")},
)


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


# --- saved views -------------------------------------------------------------------

# Whom a saved view is shown to; which of these each role may choose is coop/access.py's
# (SHARES).
SAVED_VIEW_VISIBILITY = {
    "personal": _l("Only me"),
    "school": _l("My school"),
    "everyone": _l("Everyone"),
}


class SavedView(Tracked, Base):
    """A list's state under a name (coop/saved_views.py): its filters, search, sort and
    page size as the list's URL says them, and the columns it shows. Personal, shared with
    the owner's school, or (admin, coordinator) with everyone. A saved view of the events
    may be read as an iCalendar feed at a secret URL: only the secret's SHA-256 is kept,
    with the date the URL stops working."""

    __tablename__ = "saved_views"
    __table_args__ = (
        CheckConstraint("visibility != 'school' OR school_id IS NOT NULL", name="school_when_shared"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, info={"label": _l("Owner")}
    )
    endpoint: Mapped[str] = mapped_column(String(64), info={"label": _l("List")})
    name: Mapped[str] = mapped_column(String(100), info={"label": _l("Name")})
    query: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Filters, search and sort")})
    columns: Mapped[list] = mapped_column(JSON, default=list, info={"label": _l("Shown columns")})
    visibility: Mapped[str] = mapped_column(
        String(16), default="personal", info={"label": _l("Shown to"), "choices": SAVED_VIEW_VISIBILITY}
    )
    # The owner's school (a school's user's), whom a view shown to "school" is shown to.
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), index=True, info={"label": _l("School")}
    )
    feed_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True, info={"label": _l("Calendar feed key (SHA-256)")}
    )
    feed_expires_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime, info={"label": _l("Calendar feed valid until")}
    )

    def __str__(self) -> str:
        return self.name


# --- data requests ------------------------------------------------------------------

# To whom a data request goes (coop/data_requests.py); DataRequest.addressed is the rule.
DATA_REQUEST_ADDRESSEES = {
    "all": _l("All schools"),
    "chosen": _l("Chosen schools"),
    "active_programme": _l("Schools with a programme in progress"),
}
# A school's answer to a data request (coop/workflow.py DATA_REQUEST_ANSWER); "overdue" is
# not a state but said of an answer not submitted by the deadline (coop/data_requests.py).
DATA_REQUEST_ANSWER_STATES = {
    "not_started": _l("Not started"),
    "draft": _l("Draft"),
    "submitted": _l("Submitted to the municipality"),
    "returned": _l("Returned for revision"),
    "accepted": _l("Accepted"),
}

# The figures of Coop's own data a question may be prefilled from, for the school and the
# academic year of the request (coop/request_figures.py counts each, under the same name).
PREFILL_FIGURES: dict[str, Any] = {
    "lines": _l("Plan lines of the year"),
    "lines_held": _l("Plan lines held in the year"),
    "lines_percent_held": _l("Held, %"),
    "participants_students": _l("Students reached"),
    "participants_teachers": _l("Teachers reached"),
    "participants_parents": _l("Parents reached"),
    "agreements": _l("Agreements"),
    "agreements_active": _l("Agreements in force"),
    "partners": _l("Partners with agreements"),
    **{
        f"partners_{sphere}": _l("Partners with agreements, sphere: %(sphere)s", sphere=label)
        for sphere, label in SPHERES.items()
    },
    "partners_by_kind": _l("Partners with agreements by kind"),
    "fgos_coverage": _l("FGOS results covered by held events, %"),
    **{
        f"seminars_{cycle}": _l("Seminars of the cycle «%(cycle)s»", cycle=label)
        for cycle, label in SEMINAR_CYCLES.items()
    },
    "limitations": _l("Limitations found"),
    "limitations_addressed": _l("Limitations addressed"),
    "remarks_open": _l("Open remarks"),
}

data_request_schools = Table(
    "data_request_schools",
    db.metadata,
    Column("request_id", ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
)


class DataRequest(Tracked, Base):
    """A request of the municipality for figures from its schools: its questions
    (DataRequestQuestion), the schools it goes to, and each school's answer
    (DataRequestAnswer). Written by the coordinator; read by the schools it goes to."""

    __tablename__ = "data_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500), info={"label": _l("Title")})
    explanation: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Explanation")})
    year: Mapped[int] = mapped_column(
        Integer, index=True, info={"label": _l("Academic year"), "academic_year": True}
    )
    deadline: Mapped[dt.date] = mapped_column(Date, index=True, info={"label": _l("Deadline")})
    addressees: Mapped[str] = mapped_column(
        String(32), default="all", info={"label": _l("Sent to"), "choices": DATA_REQUEST_ADDRESSEES}
    )
    # The request of the year before this one was copied from (coop/data_requests.py
    # copy_to_next_year): the years of one request, compared school by school.
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_requests.id", ondelete="SET NULL"), index=True, info={"label": _l("Copied from")}
    )

    schools: Mapped[list[School]] = relationship(
        secondary=data_request_schools, info={"label": _l("Chosen schools")}
    )
    questions: Mapped[list[DataRequestQuestion]] = relationship(
        back_populates="request",
        order_by="(DataRequestQuestion.sort_order, DataRequestQuestion.id)",
        info={"label": _l("Questions")},
    )
    answers: Mapped[list[DataRequestAnswer]] = relationship(
        back_populates="request", info={"label": _l("Answers")}
    )

    @staticmethod
    def addressed(request: Any, school_id: Any) -> Any:
        """SQL: the request (a DataRequest column set: the class or an alias) goes to the
        school school_id (a value or a column). The one statement of who is addressed."""
        chosen = (
            select(data_request_schools.c.school_id)
            .where(
                data_request_schools.c.request_id == request.id, data_request_schools.c.school_id == school_id
            )
            .exists()
        )
        active = (
            select(Programme.id)
            .where(
                Programme.school_id == school_id,
                Programme.state == "active",
                Programme.first_year <= request.year,
                Programme.last_year >= request.year,
                Programme.deleted_at.is_(None),
            )
            .exists()
        )
        return (
            (request.addressees == "all")
            | ((request.addressees == "chosen") & chosen)
            | ((request.addressees == "active_programme") & active)
        )

    def __str__(self) -> str:
        return self.title


class DataRequestQuestion(Tracked, Base):
    """A question of a data request: a field of one of the low-code kinds
    (coop/added_fields.py KINDS), optionally prefilled from a named figure of Coop's own
    data for the school and the year (coop/request_figures.py)."""

    __tablename__ = "data_request_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(500), info={"label": _l("Question")})
    kind: Mapped[str] = mapped_column(String(16), info={"label": _l("Kind of value"), "choices": FIELD_KINDS})
    choice_list_id: Mapped[int | None] = mapped_column(ForeignKey("choice_lists.id"), index=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("Required")})
    help_text: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Hint")})
    sort_order: Mapped[int] = mapped_column(Integer, default=100, info={"label": _l("Order")})
    # The name of a figure (coop/request_figures.py FIGURES) the answer starts from.
    prefill: Mapped[str | None] = mapped_column(
        String(64), info={"label": _l("Prefilled from"), "choices": PREFILL_FIGURES}
    )

    request: Mapped[DataRequest] = relationship(
        back_populates="questions", info={"label": _l("Data request")}
    )
    choice_list: Mapped[ChoiceList | None] = relationship(info={"label": _l("Choice list")})

    def __str__(self) -> str:
        return self.label


class DataRequestAnswer(Tracked, Base):
    """One school's answer to one data request. `values`: from each question's id (as
    text) to {"value": the answer} and, for a prefilled question, "computed" (the figure
    as Coop counted it) and "source" (the figure's name) beside the school's value."""

    __tablename__ = "data_request_answers"
    __table_args__ = (UniqueConstraint("request_id", "school_id", name="answer_per_school"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    state: Mapped[str] = mapped_column(
        String(32), info={"label": _l("State"), "choices": DATA_REQUEST_ANSWER_STATES}
    )
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info={"label": _l("Answers")})
    return_comment: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Why it was returned")})
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, info={"label": _l("Submitted at")})

    request: Mapped[DataRequest] = relationship(back_populates="answers", info={"label": _l("Data request")})
    school: Mapped[School] = relationship(info={"label": _l("School")})

    def __str__(self) -> str:
        return f"{self.request} — {self.school}" if self.request and self.school else ""


LABEL_RELATIONS[DataRequestAnswer] = ("request", "school")
