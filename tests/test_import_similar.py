"""«Similar» partners in an import's preview (issue 11, item 8): offered only above a real
similarity. The names below are the measurement behind importer.SIMILAR_AT: each is
matched against the demo directory, and a name of another organisation of the same
city or kind («Новокузнецкий драматический театр») is offered nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coop import models as m
from coop.extensions import db
from coop.plan_io import importer
from coop.plan_io.imported import ImportedPartner

from .conftest import csrf_token
from .test_import_web import _token, upload

KEMSU, SIBGIU, INO, NTTT, MERIDIAN, MUSEUM = (
    "КемГУ (НФИ КемГУ)",
    "СибГИУ",
    "АНО ДПО ИНО",
    "НТТТ",
    "ЦДЮТТ «Меридиан»",
    "Краеведческий музей",
)
OTHERS = [
    "Новокузнецкий драматический театр",
    "МАУК «Новокузнецкий драматический театр»",
    "Новокузнецкий театр кукол «Сказ»",
    "Новокузнецкий колледж искусств",
    "ГАПОУ «Новокузнецкий педагогический колледж»",
    "Кузбасский государственный технический университет",
    "Томский государственный университет",
    "Центр детского творчества Центрального района",
    "МБУ ДО «Дом детского творчества № 2»",
    "Новокузнецкая городская библиотека",
    "ООО «Ростелеком»",
    "Институт повышения квалификации",
    "НТТ",  # three letters: too short to call a misspelling
]
SAME = [
    ("КемГУ", KEMSU),
    ("НФИ КемГУ", KEMSU),
    ("Кемеровский государственный университет", KEMSU),
    ("Новокузнецкий институт (филиал) Кемеровского государственного университета", KEMSU),
    ("ФГБОУ ВО «СибГИУ»", SIBGIU),
    ("Сибирский индустриальный университет", SIBGIU),
    ("Сибирский государственный индустриальный универститет", SIBGIU),
    ("Институт непрерывного образования", INO),
    ("ГПОУ «Новокузнецкий транспортно-технологический техникм»", NTTT),
    ("Новокузнецкий транспортный техникум", NTTT),
    ("ЦДЮТ «Меридиан»", MERIDIAN),
    ("Меридиан", MERIDIAN),
    ("Центр детского технического творчества Меридиан", MERIDIAN),
    ("Новокузнецкий краеведческий музей", MUSEUM),
    ("Краеведческий музеи", MUSEUM),
    ("МБУК НКМ «Краеведческий музей»", MUSEUM),
]


def _offered(app: Flask, name: str) -> tuple[str | None, list[str]]:
    """The partner an imported name is taken for exactly, and those offered as similar."""
    with app.app_context():
        partners = db.session.execute(select(m.Partner), execution_options={"skip_scope": True}).scalars()
        match = importer._Directory(list(partners)).match(0, ImportedPartner(name, ()), "")
        return (str(match.exact) if match.exact else None), [str(p) for p in match.similar]


@pytest.mark.parametrize("name", OTHERS)
def test_another_organisation_is_offered_no_partner(app: Flask, name: str) -> None:
    assert _offered(app, name) == (None, [])


@pytest.mark.parametrize(("name", "partner"), SAME)
def test_an_abbreviation_or_misspelling_offers_the_partner(app: Flask, name: str, partner: str) -> None:
    exact, similar = _offered(app, name)
    assert exact is None
    assert similar == [partner]


@pytest.mark.parametrize(("name", "partner"), [("СибГИУ", SIBGIU), ("АНО ДПО «ИНО»", INO), ("нттт", NTTT)])
def test_the_same_name_is_the_partner_itself(app: Flask, name: str, partner: str) -> None:
    assert _offered(app, name)[0] == partner


def test_the_preview_offers_the_theatre_no_similar_partner(
    client_as: Any, ids: dict[str, int], fresh_db: None
) -> None:
    data = (
        "Партнёр;№;Мероприятие;Сроки;Ответственные\n"
        "Новокузнецкий драматический театр;1;Спектакль для учащихся;ноябрь;Классные руководители\n"
        "НФИ КемГУ;2;Олимпиада;декабрь;Учитель\n"
    )
    client = client_as("admin")
    token = _token(upload(client, data.encode(), "план.csv", school=ids["gymnasium17"], year=2021))
    body = client.get(f"/admin/plan_import/preview/{token}/").get_data(as_text=True)
    assert 'name="partner-0"' not in body  # the theatre: a new organisation, nothing to choose
    assert 'name="partner-1"' in body  # «НФИ КемГУ»: КемГУ is offered
    assert "Новокузнецкий транспортно" not in body and "краеведческий музей" not in body
    assert csrf_token(body)
