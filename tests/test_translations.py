"""The Russian catalog covers every message of the code, and its .mo is up to date.

Messages are extracted here the way `bash scripts/translations.sh` does it: the
method map of babel.cfg and the keywords of the script's KEYWORDS line.
"""

from __future__ import annotations

import fnmatch
import io
import itertools
import os
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "coop" / "translations"
PO_FILE = TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po"
MO_FILE = TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.mo"
SCRIPT = ROOT / "scripts" / "translations.sh"
REFRESH = "bash scripts/translations.sh"
PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
# pybabel extract skips these directories by default (--ignore-dirs ".* ._").
IGNORED_DIRS = (".*", "._")

Key = tuple[str | None, str]  # (msgctxt, msgid)


def _script_keywords() -> list[str]:
    line = re.search(r"^KEYWORDS=\((.*)\)$", SCRIPT.read_text(encoding="utf-8"), re.MULTILINE)
    assert line, f"{SCRIPT.relative_to(ROOT)} has no one-line KEYWORDS=(...) array"
    words = shlex.split(line.group(1))
    return [word for flag, word in itertools.pairwise(words) if flag == "-k"]


def _key(message: str | tuple[str, ...] | list[str], context: str | None) -> Key:
    return context, message if isinstance(message, str) else message[0]  # a plural: its singular


def _plain(value: Any) -> Any:
    """A plural's forms (read_mo gives them as a list) as a tuple: comparable, hashable."""
    return tuple(value) if isinstance(value, list) else value


def _show(key: Key) -> str:
    context, msgid = key
    return f"{msgid!r}" + (f" (context {context!r})" if context else "")


@cache
def source_messages() -> dict[Key, set[str]]:
    """Every message of the code, with the files it occurs in."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(_script_keywords())}

    def directory_filter(path: str) -> bool:
        name = os.path.basename(path)
        return not any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED_DIRS)

    found: dict[Key, set[str]] = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, directory_filter=directory_filter
    ):
        found.setdefault(_key(message, context), set()).add(filename)
    return found


@cache
def po_catalog() -> Catalog:
    with PO_FILE.open("rb") as po:
        return read_po(po, locale="ru")


@cache
def mo_catalog() -> Catalog:
    with MO_FILE.open("rb") as mo:
        return read_mo(mo)


def _strings(message) -> tuple[str, ...]:
    string = _plain(message.string)
    return string if isinstance(string, tuple) else (string,)


def test_extraction_finds_python_and_template_messages() -> None:
    files = {filename for filenames in source_messages().values() for filename in filenames}
    assert any(f.endswith(".py") for f in files), "no message extracted from coop/**.py: check babel.cfg"
    assert any(f.endswith(".html") for f in files), (
        "no message extracted from coop/templates/**.html: check babel.cfg (jinja2 extractor)"
    )
    assert (None, "Sign in") in source_messages()  # a template-only message
    assert (None, "Network plan") in source_messages()  # a lazy_gettext (_l) message


def test_every_source_message_has_a_russian_translation() -> None:
    compiled = mo_catalog()
    missing = []
    for (context, msgid), filenames in sorted(source_messages().items(), key=lambda item: item[0][1]):
        message = compiled.get(msgid, context)
        strings = _strings(message) if message is not None else ()
        plural = message is not None and not isinstance(message.id, str)
        if not strings or not all(s.strip() for s in strings) or (plural and len(strings) != 3):
            missing.append(f"  {_show((context, msgid))}  [{', '.join(sorted(filenames))}]")
    assert not missing, (
        f"{len(missing)} message(s) of the code have no Russian translation in {MO_FILE.relative_to(ROOT)}:\n"
        + "\n".join(missing)
        + f"\nRun `{REFRESH}`, translate them in {PO_FILE.relative_to(ROOT)} "
        f"(remove any '#, fuzzy' flag once checked), then run `{REFRESH}` again to compile."
    )


def test_po_has_no_fuzzy_or_empty_entries() -> None:
    bad = [
        f"  {_show((m.context, m.id if isinstance(m.id, str) else m.id[0]))}"
        + (" (fuzzy)" if m.fuzzy else " (empty)")
        for m in po_catalog()
        if m.id and (m.fuzzy or not all(s.strip() for s in _strings(m)))
    ]
    assert not bad, (
        f"{PO_FILE.relative_to(ROOT)} has fuzzy or untranslated entries (the .mo leaves them out):\n"
        + "\n".join(bad)
        + f"\nTranslate or check them, remove the '#, fuzzy' flag, then run `{REFRESH}`."
    )


def test_po_header_and_placeholders() -> None:
    catalog = po_catalog()
    assert catalog.plural_forms == PLURAL_FORMS
    assert catalog.num_plurals == 3
    problems = [
        f"  {_show((m.context, m.id if isinstance(m.id, str) else m.id[0]))}: {'; '.join(map(str, errors))}"
        for m, errors in catalog.check()
    ]
    assert not problems, "translations whose %(name)s placeholders do not match:\n" + "\n".join(problems)


def test_mo_is_compiled_from_the_current_po() -> None:
    buffer = io.BytesIO()
    write_mo(buffer, po_catalog())  # what `pybabel compile` writes (no fuzzy entries)
    buffer.seek(0)
    expected = {(m.context, _plain(m.id)): _plain(m.string) for m in read_mo(buffer)}
    actual = {(m.context, _plain(m.id)): _plain(m.string) for m in mo_catalog()}
    stale = sorted(
        {_key(k[1], k[0]) for k in expected.keys() ^ actual.keys()}
        | {_key(k[1], k[0]) for k in expected.keys() & actual.keys() if expected[k] != actual[k]},
        key=lambda key: key[1],
    )
    assert not stale, (
        f"{MO_FILE.relative_to(ROOT)} is not compiled from the current {PO_FILE.name}; it differs in:\n"
        + "\n".join(f"  {_show(key) if key[1] else '(header)'}" for key in stale[:50])
        + f"\nRun `{REFRESH}` (or `{REFRESH} compile`) and commit the .mo."
    )


@pytest.fixture(scope="module")
def ru() -> Translations:
    translations = Translations.load(str(TRANSLATIONS), ["ru"])
    assert isinstance(translations, Translations), f"no compiled Russian catalog under {TRANSLATIONS}"
    return translations


@pytest.mark.parametrize(
    ("english", "russian"),
    [
        ("Sign in", "Войти"),
        ("Sign out", "Выйти"),
        ("Schools", "Школы"),
        ("Network plan", "Сетевой план"),
        ("Events", "Мероприятия"),
        ("Agreements", "Соглашения"),
        ("Responsible", "Ответственные"),
        ("Timing", "Сроки"),
        ("Academic year", "Учебный год"),
        ("Municipal coordinator", "Муниципальный координатор"),
        ("FGOS results", "Образовательные результаты ФГОС"),
        (
            "Network form agreement (art. 15 of 273-FZ)",
            "Договор о сетевой форме реализации образовательных программ"
            " (ст. 15 Федерального закона № 273-ФЗ)",
        ),
    ],
)
def test_key_strings_are_russian(ru: Translations, english: str, russian: str) -> None:
    assert ru.gettext(english) == russian


def test_placeholders_survive(ru: Translations) -> None:
    assert ru.gettext("Signed in as %(role)s.") % {"role": "Администратор"} == (
        "Вы вошли в систему. Роль: Администратор."
    )


@pytest.mark.parametrize(
    ("n", "form"),
    [(1, 0), (21, 0), (101, 0), (2, 1), (4, 1), (22, 1), (5, 2), (11, 2), (12, 2), (14, 2), (111, 2), (0, 2)],
)
def test_russian_plural_rule(ru: Translations, n: int, form: int) -> None:
    assert ru.plural(n) == form
