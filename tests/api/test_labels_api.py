"""GET /v1/labels/{type}: the labels files the operator publishes, in the reader's language."""

from __future__ import annotations

import json
from pathlib import Path

from api_helpers import ONLY_EMBEDDED_SQLITE, Api

pytestmark = ONLY_EMBEDDED_SQLITE

BIRTH = {
    "type": "BirthCertificate",
    "title": {"en": "Birth certificate", "et": "Sünnitunnistus"},
    "fields": {
        "/child": {"en": "Child", "et": "Laps"},
        "/child/given": {"en": "Given name", "et": "Eesnimi"},
    },
}


def _publish(api: Api, name: str, text: str) -> Path:
    folder = api.operator.settings.data_dir / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_labels_in_the_readers_language(api: Api) -> None:
    _publish(api, "BirthCertificate", json.dumps(BIRTH))
    answer = api.client.get("/v1/labels/BirthCertificate", headers={"Accept-Language": "et-EE"})
    assert answer.status_code == 200
    assert answer.json() == {
        "type": "BirthCertificate",
        "language": "et",
        "languages": ["en", "et"],
        "title": "Sünnitunnistus",
        "fields": {"/child": "Laps", "/child/given": "Eesnimi"},
    }
    assert answer.headers["content-language"] == "et"
    assert "Accept-Language" in answer.headers["vary"]
    english = api.client.get("/v1/labels/BirthCertificate", headers={"Accept-Language": "de"})
    assert english.json()["language"] == "en"  # the default
    chosen = api.client.get(
        "/v1/labels/BirthCertificate", params={"lang": "et"}, headers={"Accept-Language": "en"}
    )
    assert chosen.json()["language"] == "et"  # ?lang= overrides the header


def test_no_labels_is_404_and_names_are_never_paths(api: Api) -> None:
    assert api.client.get("/v1/labels/Diploma").status_code == 404
    for bad in ("..%2Fconfig", ".hidden", "a%20b"):
        answer = api.client.get(f"/v1/labels/{bad}")
        assert answer.status_code in (404, 422), bad
        assert answer.headers["content-type"] == "application/problem+json"


def test_a_bad_labels_file_is_the_operators_problem(api: Api) -> None:
    _publish(api, "Licence", json.dumps({**BIRTH, "type": "Licence", "fields": {"/a": {"en": ""}}}))
    answer = api.client.get("/v1/labels/Licence")
    assert answer.status_code == 500
    assert "fields./a.en" in answer.json()["detail"]
    _publish(api, "Permit", json.dumps(BIRTH))  # a file under another type's name
    assert api.client.get("/v1/labels/Permit").status_code == 500
