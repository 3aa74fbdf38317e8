"""The DCAT-AP 3.0.1 catalog: it conforms to the official SHACL shapes (pySHACL), it fails them
when a mandatory property is removed, it has every recommended property, its JSON-LD and Turtle
forms are the same graph, hostile text is escaped, and a DCAT harvester reads it."""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import rdflib
from opendata_helpers import HOSTILE_NAME, SHAPES, conforms, jsonld_graph
from rdflib import RDF, Namespace
from rdflib.compare import isomorphic

from registry.errors import InvalidInput
from registry.opendata import (
    CatalogMeta,
    DatasetInfo,
    Distribution,
    catalog_jsonld,
    catalog_turtle,
)

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
BASE = "https://data.example.gov/registry"

INFO = DatasetInfo(
    chain_id=31337,
    registry="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    from_block=0,
    to_block=420,
    to_time=1773482400,  # 2026-03-14
    first_time=1767225600,  # 2026-01-01
    events=57,
)
FILES = [
    Distribution("activity.csv", 4_096, hashlib.sha256(b"csv").hexdigest()),
    Distribution("activity.json", 16_384, hashlib.sha256(b"json").hexdigest()),
]


def document(**meta: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"base_url": BASE, "contact_email": "opendata@example.gov"}
    return catalog_jsonld(CatalogMeta(**{**values, **meta}), INFO, FILES)


def node(doc: dict[str, Any], suffix: str) -> dict[str, Any]:
    return next(n for n in doc["@graph"] if n["@id"].endswith(suffix))


def test_the_vendored_shapes_are_the_release() -> None:
    data = SHAPES.read_bytes()
    assert len(data) == 155_456
    assert hashlib.sha256(data).hexdigest() == (
        "ed668569a6f4d888b54c655352a270fac778c06b3af0388da125a10549107eba"
    )
    readme = (SHAPES.parent / "README.md").read_text()
    assert "SEMICeu/DCAT-AP" in readme and "07617929252ed57f98ebdf87c8f87a7a63e7bd59" in readme


def test_the_catalog_conforms_to_dcat_ap_3_0_1_in_both_forms() -> None:
    doc = document(country="EST")
    from_jsonld = jsonld_graph(doc)
    ok, report = conforms(from_jsonld)
    assert ok, report
    from_turtle = rdflib.Graph().parse(data=catalog_turtle(doc), format="turtle")
    ok, report = conforms(from_turtle)
    assert ok, report
    assert isomorphic(from_jsonld, from_turtle)
    assert len(from_jsonld) > 80


MANDATORY = [
    ("/#catalog", "dct:title"),
    ("/#catalog", "dct:description"),
    ("/#catalog", "dct:publisher"),
    ("/#dataset", "dct:title"),
    ("/#dataset", "dct:description"),
    ("/#activity.csv", "dcat:accessURL"),
    ("/#activity.json", "dcat:accessURL"),
    ("/#publisher", "foaf:name"),
    ("/#activity.csv-sha256", "spdx:checksumValue"),
    ("/data-theme/GOVE", "skos:prefLabel"),
    ("/data-theme", "dct:title"),
]


@pytest.mark.parametrize(("subject", "prop"), MANDATORY)
def test_removing_a_mandatory_property_fails_validation(subject: str, prop: str) -> None:
    doc = copy.deepcopy(document())
    del node(doc, subject)[prop]
    ok, report = conforms(jsonld_graph(doc))
    assert not ok
    assert "MinCountConstraintComponent" in report


def test_removing_a_mandatory_property_from_the_turtle_fails_too() -> None:
    graph = rdflib.Graph().parse(data=catalog_turtle(document()), format="turtle")
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    graph.remove((dataset, DCT.title, None))
    ok, report = conforms(graph)
    assert not ok and "title" in report


def test_a_wrongly_typed_range_fails_validation() -> None:
    doc = copy.deepcopy(document())
    licence = node(doc, "/licence/CC_BY_4_0")
    licence["@type"] = "skos:Concept"
    licence["skos:prefLabel"] = {"@value": "CC BY 4.0", "@language": "en"}
    ok, report = conforms(jsonld_graph(doc))
    assert not ok and "ClassConstraintComponent" in report


RECOMMENDED = {
    DCAT.Catalog: [
        FOAF.homepage,
        DCT.language,
        DCT.license,
        DCT.issued,
        DCT.modified,
        DCT.spatial,
        DCAT.themeTaxonomy,
        DCAT.dataset,
    ],
    DCAT.Dataset: [
        DCAT.contactPoint,
        DCAT.distribution,
        DCAT.keyword,
        DCT.publisher,
        DCT.spatial,
        DCT.temporal,
        DCAT.theme,
        DCT.accrualPeriodicity,
    ],
    DCAT.Distribution: [
        DCATAP.availability,
        DCT.description,
        DCT["format"],
        DCT.license,
        DCAT.downloadURL,
        DCAT.mediaType,
    ],
    FOAF.Agent: [DCT.type],
    DCT.LicenseDocument: [DCT.type],
    DCT.PeriodOfTime: [DCAT.startDate, DCAT.endDate],
}
"""DCAT-AP 3.0.1's recommended properties of each class we publish (the SHACL file states only
the mandatory ones), plus what the issue asks for: downloadURL, media type, frequency."""


def test_every_recommended_property_is_present() -> None:
    graph = jsonld_graph(document())
    for cls, properties in RECOMMENDED.items():
        subjects = list(graph.subjects(RDF.type, cls))
        assert subjects, cls
        for subject in subjects:
            for prop in properties:
                assert graph.value(subject, prop) is not None, f"{subject} has no {prop}"
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    assert str(graph.value(dataset, DCT.accrualPeriodicity)).endswith("/frequency/MONTHLY")
    assert len(list(graph.objects(dataset, DCAT.keyword))) >= 5
    formats = {
        str(graph.value(d, DCT["format"])) for d in graph.objects(dataset, DCAT.distribution)
    }
    assert formats == {
        "http://publications.europa.eu/resource/authority/file-type/CSV",
        "http://publications.europa.eu/resource/authority/file-type/JSON",
    }
    licences = {str(o) for o in graph.objects(None, DCT.license)}
    assert licences == {"http://publications.europa.eu/resource/authority/licence/CC_BY_4_0"}
    contact = graph.value(dataset, DCAT.contactPoint)
    assert str(graph.value(contact, VCARD.hasEmail)) == "mailto:opendata@example.gov"
    temporal = graph.value(dataset, DCT.temporal)
    assert (
        str(graph.value(temporal, DCAT.startDate)),
        str(graph.value(temporal, DCAT.endDate)),
    ) == (
        "2026-01-01",
        "2026-03-14",
    )


def test_hostile_text_is_escaped_in_json_ld_and_turtle() -> None:
    title = 'Activity "of" the registry\n"""; <x> a <y> . #'
    doc = document(publisher=HOSTILE_NAME, title=title)
    turtle = catalog_turtle(doc)
    graph = rdflib.Graph().parse(data=turtle, format="turtle")
    publisher = next(graph.subjects(RDF.type, FOAF.Agent))
    assert str(graph.value(publisher, FOAF.name)) == HOSTILE_NAME
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    assert str(graph.value(dataset, DCT.title)) == title
    assert isomorphic(graph, jsonld_graph(doc))
    ok, report = conforms(graph)
    assert ok, report


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"base_url": "javascript:alert(1)"}, "base_url"),
        ({"base_url": "https://data.example.gov/a b"}, "base_url"),
        ({"base_url": 'https://x.example/">'}, "base_url"),
        ({"landing_page": "ftp://x.example/"}, "landing_page"),
        ({"contact_email": "not an address"}, "contact"),
        ({"contact_email": "a@b>.c"}, "contact"),
        ({"country": "ee"}, "country"),
        ({"publisher": "  "}, "publisher"),
    ],
)
def test_bad_catalog_inputs_are_refused(values: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CatalogMeta(**{"base_url": BASE, **values})
    assert caught.value.field == field


def _harvest(path: Path) -> list[dict[str, Any]]:
    """What ckanext-dcat's RDF harvester does with a remote catalog (processors.RDFParser and
    the euro_dcat_ap profiles, read from its 2.4 source; CKAN itself is not installed here):
    rdflib parses the file in the format its extension names (`url_to_rdflib_format`), every
    subject typed dcat:Dataset is a dataset, its title, notes, tags, dates, publisher,
    contact, temporal coverage and distributions (the resources: URL from accessURL, download
    URL, format, media type, licence, size, checksum) are read from its triples."""
    fmt = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "pretty-xml"}[path.suffix[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = rdflib.Graph().parse(data=path.read_bytes(), format=fmt)
    datasets = []
    for ref in graph.subjects(RDF.type, DCAT.Dataset):
        publisher = graph.value(ref, DCT.publisher)
        contact = graph.value(ref, DCAT.contactPoint)
        temporal = graph.value(ref, DCT.temporal)
        resources = []
        for dist in graph.objects(ref, DCAT.distribution):
            resources.append(
                {
                    "url": str(graph.value(dist, DCAT.accessURL)),
                    "download_url": str(graph.value(dist, DCAT.downloadURL)),
                    "format": str(graph.value(dist, DCT["format"])),
                    "mimetype": str(graph.value(dist, DCAT.mediaType)),
                    "license": str(graph.value(dist, DCT.license)),
                    "size": int(graph.value(dist, DCAT.byteSize)),
                    "hash": str(
                        graph.value(
                            graph.value(dist, rdflib.URIRef("http://spdx.org/rdf/terms#checksum")),
                            rdflib.URIRef("http://spdx.org/rdf/terms#checksumValue"),
                        )
                    ),
                }
            )
        datasets.append(
            {
                "uri": str(ref),
                "title": str(graph.value(ref, DCT.title)),
                "notes": str(graph.value(ref, DCT.description)),
                "tags": sorted(str(k) for k in graph.objects(ref, DCAT.keyword)),
                "identifier": str(graph.value(ref, DCT.identifier)),
                "issued": str(graph.value(ref, DCT.issued)),
                "modified": str(graph.value(ref, DCT.modified)),
                "publisher_name": str(graph.value(publisher, FOAF.name)),
                "contact_email": str(graph.value(contact, VCARD.hasEmail)).removeprefix("mailto:"),
                "temporal_start": str(graph.value(temporal, DCAT.startDate)),
                "temporal_end": str(graph.value(temporal, DCAT.endDate)),
                "frequency": str(graph.value(ref, DCT.accrualPeriodicity)),
                "resources": sorted(resources, key=lambda r: r["url"]),
            }
        )
    return datasets


def test_a_dcat_harvester_reads_it(tmp_path: Path) -> None:
    doc = document()
    (tmp_path / "catalog.jsonld").write_text(json.dumps(doc))
    (tmp_path / "catalog.ttl").write_text(catalog_turtle(doc))
    harvested = [_harvest(tmp_path / name) for name in ("catalog.jsonld", "catalog.ttl")]
    assert harvested[0] == harvested[1]
    (dataset,) = harvested[0]
    assert dataset["uri"] == BASE + "/#dataset"
    assert dataset["title"].startswith("Public Records Registry")
    assert "revocations" in dataset["tags"]
    assert dataset["identifier"] == f"eip155:31337:{INFO.registry}/activity"
    assert (dataset["temporal_start"], dataset["temporal_end"]) == ("2026-01-01", "2026-03-14")
    assert dataset["contact_email"] == "opendata@example.gov"
    assert [r["url"] for r in dataset["resources"]] == [
        BASE + "/activity.csv",
        BASE + "/activity.json",
    ]
    assert (
        dataset["resources"][0]["mimetype"]
        == "https://www.iana.org/assignments/media-types/text/csv"
    )
    assert dataset["resources"][0]["size"] == 4_096
    assert dataset["resources"][1]["hash"] == hashlib.sha256(b"json").hexdigest()
