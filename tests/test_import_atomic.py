"""An import is all or nothing: a failure forced late in a large plan, after several
partners' lines were written, leaves the database as it was before the import."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coop import models as m
from coop.extensions import db
from coop.plan_io import importer

from .conftest import csrf_token
from .test_import_seed import seed_docx
from .test_import_web import _token, upload


def _state(school_id: int) -> dict[str, Any]:
    counted = {
        model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (m.Event, m.Partner, m.Position, m.Programme, m.History)
    }
    titles = db.session.execute(select(m.Event.title).where(m.Event.school_id == school_id)).scalars()
    return {**counted, "titles": sorted(titles)}


@pytest.mark.parametrize("failing_line", [2, 30, 45])
def test_a_failure_late_in_the_plan_leaves_nothing_written(
    app: Flask,
    client_as: Any,
    ids: dict[str, int],
    fresh_db: None,
    monkeypatch: pytest.MonkeyPatch,
    failing_line: int,
) -> None:
    client = client_as("school31")
    with app.app_context():
        before = _state(ids["school31"])
    response = upload(client, seed_docx(), year=2030)  # 48 new lines, a dozen partners
    token, body = _token(response), response.get_data(as_text=True)
    written = importer._responsible
    lines = 0

    def fails_at_line(*args: Any) -> Any:
        nonlocal lines
        lines += 1
        if lines == failing_line:  # the database refuses this line; the earlier ones are flushed
            raise IntegrityError("INSERT", {}, Exception("refused"))
        return written(*args)

    monkeypatch.setattr(importer, "_responsible", fails_at_line)
    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert lines == failing_line  # it got that far: earlier partners' lines were in the session
    assert response.status_code == 400
    refusal = "Ничего не импортировано: база данных не приняла план (IntegrityError)."
    assert refusal in response.get_data(as_text=True)
    with app.app_context():
        assert _state(ids["school31"]) == before

    monkeypatch.setattr(importer, "_responsible", written)  # the same preview, once the refusal is gone
    response = client.post(f"/admin/plan_import/confirm/{token}/", data={"csrf_token": csrf_token(body)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        after = _state(ids["school31"])
    assert after["Event"] == before["Event"] + 48
    assert after["Programme"] == before["Programme"] + 1
