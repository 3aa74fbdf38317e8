"""Field labels of a record type (registry.labels): what the citizen's page shows for a field
instead of its raw key, in the reader's language."""

from __future__ import annotations

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.common import ApiModel


class LabelsPublic(ApiModel):
    """The labels of one record type, in one language."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "type": "BirthCertificate",
                "language": "en",
                "languages": ["en", "et"],
                "title": "Birth certificate",
                "fields": {
                    "/number": "Certificate number",
                    "/child": "Child",
                    "/child/given": "Given name",
                    "/parents/*/name": "Name",
                },
            }
        },
    )

    type: str = Field(description="The record type: the record's own `type` field.")
    language: str = Field(
        description="The language of these labels (BCP 47), chosen by `Accept-Language` "
        "(or `lang`) among `languages`; the file's default language otherwise."
    )
    languages: list[str] = Field(description="Every language the labels file has.")
    title: str | None = Field(description="The record type's name in that language, if any.")
    fields: dict[str, str] = Field(
        description="JSON pointer -> label of that level (`*` stands for any array index). "
        "Presentation only: a page shows the raw pointer beside each label."
    )
