"""«Similar» partners in an import's preview (issue 11, item 8): offered only above a real
similarity. The names below are the measurement behind importer.SIMILAR_AT: each is
matched against the demo directory, and a name of another organisation of the same
city or kind («Новокузнецкий драматический театр») is offered nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

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


# Two words of names, and whether they are taken for one word: the same, inflected (one
# Snowball stem, short words too), misspelled by a letter, or not alike at all.
ALIKE = [
    ("нфи", "нфи", True),
    ("дома", "дом", True),  # one stem, though «дом» is too short to be a misspelling
    ("дом", "домам", True),
    ("кемеровского", "кемеровский", True),
    ("кемеровский", "кемеровскй", True),
    ("техникм", "техникум", True),
    ("институт", "институции", True),  # the first 7 letters of 10 alike: 70 %
    ("центра", "центрум", True),  # the first 5 letters (importer.STEM) of 7
    ("театр", "теарт", True),  # two letters swapped: 80 % of the letters in order (WORD_ALIKE_AT)
    ("дворец", "дворик", False),  # 67 %
    ("музейный", "музейщик", False),  # 5 of 8
    ("педагогический", "педагогика", False),  # 8 of 14
    ("нфи", "ино", False),  # abbreviations: only the same one
    ("театр", "музей", False),
    ("сибирский", "сибирь", False),
]


@pytest.mark.parametrize(("word", "other", "alike"), ALIKE)
def test_words_alike(word: str, other: str, alike: bool) -> None:
    assert importer._alike(word, other) is alike
    assert importer._alike(other, word) is alike


def _offered(app: Flask, name: str) -> tuple[str | None, list[str]]:
    """The partner an imported name is taken for exactly, and those offered as similar."""
    with app.app_context():
        match = importer._Directory().match(0, ImportedPartner(name, ()), "")
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


def test_case_yo_and_word_forms_find_the_partner_through_the_search_index(app: Flask, fresh_db: None) -> None:
    """The directory is read through the search index (coop/search.py): the name in another
    case and with «е» for «ё» is the partner itself; in other word forms it is offered."""
    gymnasium = "Гимназия искусств «Ёлочка»"
    with app.app_context():
        db.session.add(m.Partner(name=gymnasium, short_name=""))
        db.session.commit()
    assert _offered(app, "ГИМНАЗИЯ ИСКУССТВ «ЕЛОЧКА»") == (gymnasium, [])
    assert _offered(app, "гимназии искусств елочки") == (None, [gymnasium])
    assert _offered(app, "Гимназией искусств") == (None, [gymnasium])
    assert _offered(app, "Гимназия «Ёлочка»") == (None, [gymnasium])


def test_only_partners_holding_a_word_of_the_name_are_scored(app: Flask, fresh_db: None) -> None:
    """The import scores what the index finds, not the whole directory: the partners whose
    names hold a word beginning as one of the imported name's distinctive words."""
    with app.app_context():
        db.session.add(m.Partner(name="Детская школа ИСКУССТВ № 9", short_name=""))
        db.session.commit()
        found = importer._Directory()._holding_any_word(importer._Name.of("МБОУ «Гимназия искусств»"))
        read = [partner.name for partner in found]
        directory = db.session.query(m.Partner).count()
    assert "Детская школа ИСКУССТВ № 9" in read
    assert 0 < len(read) < directory
    assert all("искус" in name.lower() or "гимна" in name.lower() for name in read)


def test_the_exact_partner_is_found_among_many_holding_its_words(app: Flask, fresh_db: None) -> None:
    """More partners than the index's candidates hold every word of the name: the exact one,
    the shortest, ranks first among them."""
    with app.app_context():
        for number in range(importer.MAX_CANDIDATES + 10):
            db.session.add(m.Partner(name=f"Гимназия искусств № {number}", short_name=""))
        db.session.add(m.Partner(name="Гимназия искусств", short_name=""))
        db.session.commit()
    assert _offered(app, "гимназия ИСКУССТВ")[0] == "Гимназия искусств"


def test_likeness_reads_the_shorter_names_words_in_the_longer() -> None:
    def likeness(name: str, other: str) -> float:
        return importer._Name.of(name).likeness(importer._Name.of(other))

    assert likeness("КемГУ", "КемГУ (НФИ КемГУ)") == 1.0
    assert likeness("Театр", "Драматический театр") == likeness("Драматический театр", "Театр") == 1.0
    assert likeness("Новокузнецкий драматический театр", "Новокузнецкий краеведческий музей") == 1 / 3
    assert likeness("МБОУ", "МБОУ") == 0.0  # a legal form alone says nothing of whom


THEATRES = ("Театр «Сказка»", "Детский театр «Сказка» № 2", "Детский театр «Лукоморье»")


def test_similar_partners_come_most_alike_first_then_by_name(app: Flask, fresh_db: None) -> None:
    """«Детский театр «Сказка»» has every word of the first two (1.0) and two of three of the
    last (0.67, above importer.SIMILAR_AT)."""
    with app.app_context():
        db.session.add_all(m.Partner(name=name, short_name="") for name in reversed(THEATRES))
        db.session.commit()
    assert _offered(app, "Детский театр «Сказка»") == (
        None,
        ["Детский театр «Сказка» № 2", "Театр «Сказка»", "Детский театр «Лукоморье»"],
    )


def test_a_likeness_at_the_threshold_is_similar(
    app: Flask, fresh_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        db.session.add(m.Partner(name=THEATRES[2], short_name=""))
        db.session.commit()
    monkeypatch.setattr(importer, "SIMILAR_AT", 2 / 3)  # «Лукоморье»'s likeness: two words of three
    assert _offered(app, "Детский театр «Сказка»") == (None, [THEATRES[2]])
    monkeypatch.setattr(importer, "SIMILAR_AT", 0.67)
    assert _offered(app, "Детский театр «Сказка»") == (None, [])


def test_the_best_ranked_candidates_are_scored_and_no_more(app: Flask, fresh_db: None) -> None:
    """However many partners hold a word of the name, MAX_CANDIDATES are scored: those that
    hold the most of its words, though written last."""
    with app.app_context():
        db.session.add_all(
            m.Partner(name=f"Театр № {number}", short_name="")
            for number in range(importer.MAX_CANDIDATES + 10)
        )
        db.session.add(m.Partner(name=THEATRES[1], short_name=""))
        db.session.commit()
        found = importer._Directory()._holding_any_word(importer._Name.of("Детский театр «Сказка»"))
        assert len(found) == importer.MAX_CANDIDATES
        assert THEATRES[1] in [partner.name for partner in found]
