"""Field labels, public: the words the citizen's page shows for a record type's fields, in the
reader's language, from the labels files the operator publishes (docs/web.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.errors import problem_responses
from api.schemas import example_of
from api.schemas.labels import LabelsPublic
from registry.service.labels import record_labels

router = APIRouter(prefix="/v1/labels", tags=["labels"])

TypePath = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="A record type: the record's `type` field (letters, digits, `.`, `_`, `-`).",
        examples=["BirthCertificate"],
    ),
]
LangQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Preferred languages, as in `Accept-Language` (which it overrides).",
        examples=["et, en;q=0.5"],
    ),
]


@router.get(
    "/{record_type}",
    summary="Field labels of a record type",
    description="The labels the operator publishes for a record type's fields (JSON pointer "
    "-> label), in the language `Accept-Language` (or `lang`) prefers among those the labels "
    "file has, else in its default language. Labels are presentation only. Public.",
    response_model=LabelsPublic,
    responses={
        200: {"content": {"application/json": {"example": example_of(LabelsPublic)}}},
        **problem_responses(404, 422),
    },
)
def get_labels(
    record_type: TypePath,
    runtime: RuntimeDep,
    lang: LangQuery = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> JSONResponse:
    labels = record_labels(runtime.settings, record_type, accept_language=lang or accept_language)
    body = {
        "type": labels.record_type,
        "language": labels.language,
        "languages": list(labels.languages),
        "title": labels.title,
        "fields": dict(labels.fields),
    }
    headers = {
        "Content-Language": labels.language,
        "Vary": "Accept-Language",
        "Cache-Control": "public, max-age=300",
    }
    return JSONResponse(body, headers=headers)


__all__ = ["router"]
