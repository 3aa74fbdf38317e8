"""`registry opendata export` from a node: the numbers the chain holds (on the embedded chain
and on anvil), the four files, the catalog valid, and bad input refused without a traceback or
a half-written folder: an address that is no registry, a node down, a folder with files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rdflib
from opendata_helpers import HOSTILE_NAME, build_scene, conforms, jsonld_graph, read_csv

from registry.chain.devnode import free_port
from registry.errors import ChainUnavailable, InvalidInput
from registry.opendata import COLUMNS, CatalogMeta, month_of
from registry.service import opendata as service
from registry.service.opendata import export_open_data

ANVIL = pytest.mark.parametrize("chain_env_session", ["anvil"], indirect=True)
EMBEDDED = pytest.mark.parametrize("chain_env_session", ["embedded"], indirect=True)
FILES = {"activity.csv", "activity.json", "catalog.jsonld", "catalog.ttl"}
META = CatalogMeta(base_url="https://data.example.gov/registry", contact_email="od@example.gov")


def test_the_export_counts_what_the_chain_holds(chain_env: Any, tmp_path: Path) -> None:
    scene = build_scene(chain_env)
    result = export_open_data(chain_env.registry, tmp_path / "out", meta=META)
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == FILES
    assert result.files == {name: (out / name).stat().st_size for name in FILES}
    rows = read_csv((out / "activity.csv").read_bytes().decode("utf-8"))
    assert list(rows[0]) == [c.name for c in COLUMNS]
    for agency, name in scene.names.items():
        mine = [r for r in rows if r["agency"] == agency]
        assert {r["agency_name"] for r in mine} == {name}
        totals = {column: sum(int(r[column]) for r in mine) for column in scene.totals(agency)}
        assert totals == scene.totals(agency), name
    for month in scene.months():
        assert any(r["month"] == month and r["scope"] == "registry" for r in rows)
    a1_month = month_of(scene.anchors[0][1])
    first = next(
        r for r in rows if r["month"] == a1_month and r["agency"] == chain_env.agency_a.address
    )
    assert first["median_records_per_batch"] == "10" and first["largest_batch"] == "10"
    c = next(a for a, n in scene.names.items() if n == HOSTILE_NAME)
    assert [r["agency_status"] for r in rows if r["agency"] == c][-1] == "active"  # moved
    data = json.loads((out / "activity.json").read_text(encoding="utf-8"))
    assert len(data["rows"]) == len(rows)
    assert data["address"] == chain_env.registry.address
    assert data["toBlock"] == result.info.to_block == chain_env.registry.node.head()
    for row, line in zip(data["rows"], rows, strict=True):
        assert {k: "" if v is None else str(v) for k, v in row.items()} == line
    ok, report = conforms(jsonld_graph((out / "catalog.jsonld").read_text(encoding="utf-8")))
    assert ok, report
    turtle = rdflib.Graph().parse(out / "catalog.ttl", format="turtle")
    ok, report = conforms(turtle)
    assert ok, report


@EMBEDDED
def test_the_export_is_reproducible_byte_for_byte(chain_env: Any, tmp_path: Path) -> None:
    build_scene(chain_env)
    head = chain_env.registry.node.head()
    export_open_data(chain_env.registry, tmp_path / "one", meta=META, to_block=head)
    chain_env.mine(3)  # later blocks: the same --to-block gives the same files
    export_open_data(chain_env.registry, tmp_path / "two", meta=META, to_block=head, span=7)
    for name in FILES:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


@EMBEDDED
def test_a_folder_with_files_is_refused_unless_forced(chain_env: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.txt").write_text("keep me")
    with pytest.raises(InvalidInput, match="not empty; pass --force"):
        export_open_data(chain_env.registry, out, meta=META)
    assert [p.name for p in out.iterdir()] == ["README.txt"]
    export_open_data(chain_env.registry, out, meta=META, force=True)
    assert {p.name for p in out.iterdir()} == FILES | {"README.txt"}
    assert (out / "README.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInput, match="not a folder"):
        export_open_data(chain_env.registry, tmp_path / "file", meta=META)
    with pytest.raises(InvalidInput, match="no such folder"):
        export_open_data(chain_env.registry, tmp_path / "none" / "out", meta=META)


@EMBEDDED
def test_an_outage_midway_writes_nothing(
    chain_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_scene(chain_env)

    def node_gone(*args: Any, **kwargs: Any) -> Any:
        raise ChainUnavailable("eth_getTransactionReceipt: node unreachable (ConnectionError)")

    monkeypatch.setattr(service, "gas_used", node_gone)
    with pytest.raises(ChainUnavailable):
        export_open_data(chain_env.registry, tmp_path / "out", meta=META)
    assert list(tmp_path.iterdir()) == []  # no folder, no staging folder left behind
    monkeypatch.undo()

    def write_fails(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service, "write_catalog_files", write_fails)
    with pytest.raises(InvalidInput, match="No space left"):
        export_open_data(chain_env.registry, tmp_path / "out", meta=META)
    assert list(tmp_path.iterdir()) == []


def _export(cli: Any, env: Any, out: Path, *args: str) -> Any:
    return cli(
        "opendata",
        "export",
        str(out),
        "--rpc",
        env.w3.provider.endpoint_uri,
        "--registry",
        env.registry.address,
        *args,
    )


@pytest.mark.anvil
@ANVIL
def test_cli_export_from_anvil(cli: Any, chain_env: Any, tmp_path: Path) -> None:
    build_scene(chain_env)
    out = tmp_path / "site" / "opendata"
    out.parent.mkdir()
    result = _export(
        cli,
        chain_env,
        out,
        "--contact",
        "od@example.gov",
        "--country",
        "est",
        "--base-url",
        "https://data.example.gov/registry",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == FILES
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["registry"] == chain_env.registry.address and summary["agencies"] == 3
    catalog = (out / "catalog.ttl").read_text()
    assert "https://data.example.gov/registry/activity.csv" in catalog
    assert "/country/EST" in catalog
    again = _export(cli, chain_env, out)
    assert again.exit_code == 2 and "pass --force" in again.output
    assert "Traceback" not in again.output
    assert _export(cli, chain_env, out, "--force").exit_code == 0


@pytest.mark.anvil
@ANVIL
def test_cli_refuses_what_is_not_a_registry_and_a_node_down(
    cli: Any, chain_env: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    url = chain_env.w3.provider.endpoint_uri
    for address, says in (
        (chain_env.admin.address, "no contract at"),  # an account, not a contract
        ("0x12", "not a 20-byte hex address"),
    ):
        result = cli("opendata", "export", str(out), "--rpc", url, "--registry", address)
        assert result.exit_code == 2, result.output
        assert says in result.output and "Traceback" not in result.output
    down = f"http://127.0.0.1:{free_port()}"
    result = cli(
        "opendata", "export", str(out), "--rpc", down, "--registry", chain_env.registry.address
    )
    assert result.exit_code == 3, result.output
    assert "cannot reach" in result.output and "Traceback" not in result.output
    result = cli("opendata", "export", str(out), "--registry", chain_env.registry.address)
    assert result.exit_code == 2 and "embedded chain" in result.output  # no node named
    result = _export(cli, chain_env, out, "--base-url", "javascript:alert(1)")
    assert result.exit_code == 2 and "base_url" in result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.anvil
def test_the_demos_registry_exports(
    cli: Any, anvil_node: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`registry demo`'s whole story, run against anvil instead of its in-process chain, then
    `registry opendata export` of the registry it deployed, from the node alone."""
    import registry.demo as demo
    from registry.chain import connect

    monkeypatch.setattr(demo, "connect", lambda: connect(anvil_node.url))
    node = connect(anvil_node.url).provider
    snapshot = node.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        outcome = demo.run_demo(lambda line: None, certificates=120)
        _check_demo_export(cli, anvil_node.url, outcome, tmp_path)
    finally:  # the session's anvil as the other tests know it
        node.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def _check_demo_export(cli: Any, url: str, outcome: Any, tmp_path: Path) -> None:
    assert outcome.as_expected, outcome.outcomes
    out = tmp_path / "demo-opendata"
    result = cli("opendata", "export", str(out), "--rpc", url, "--registry", outcome.registry)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == FILES
    rows = read_csv((out / "activity.csv").read_bytes().decode("utf-8"))
    names = {r["agency_name"] for r in rows if r["scope"] == "agency"}
    assert {"Civil Registry Office", "Ministry of Education"} <= names
    total = sum(int(r["records_anchored"]) for r in rows if r["scope"] == "registry")
    assert total >= 120 + 200
    assert sum(int(r["revocations"]) for r in rows if r["scope"] == "registry") >= 1
    ok, report = conforms(jsonld_graph((out / "catalog.jsonld").read_bytes()))
    assert ok, report
