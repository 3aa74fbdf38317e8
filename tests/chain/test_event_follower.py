"""The one reader of the registry's event log (registry.chain.events.EventFollower), on every
node: bounded pages, the position remembered between polls, a subset of events asked of the
node by topic (as hex strings: eth-tester matches nothing for HexBytes topics), and the
verifier's cache emptied by the events it reads."""

from __future__ import annotations

import secrets

from chain_envs import ChainEnv

from registry import keys
from registry.chain.events import EventFollower, fetch_events
from registry.service.chain_reader import CachingChainReader


def test_pages_are_bounded_and_the_position_is_remembered(chain_env: ChainEnv) -> None:
    reg = chain_env.registry
    follower = EventFollower(reg, span=3)
    first = list(follower.pages())
    assert all(end - start < 3 for start, end, _ in first)
    assert [s for s, _, _ in first] == list(range(0, reg.node.head() + 1, 3))
    assert follower.next_block == reg.node.head() + 1
    seen = [e for _, _, events in first for e in events]
    assert seen == list(fetch_events(reg))  # one pass of a follower is fetch_events

    root = secrets.token_bytes(32)
    reg.anchor(chain_env.agency_a, root=root, leaf_count=2)
    new = list(follower.poll())
    assert [(e.name, e.args["root"]) for e in new] == [("Anchored", root)]
    assert new[0].timestamp == reg.node.block_time(new[0].block_number)
    assert list(follower.poll()) == []


def test_a_subset_is_asked_of_the_node_by_topic(chain_env: ChainEnv) -> None:
    reg = chain_env.registry
    start = reg.node.head() + 1
    reg.anchor(chain_env.agency_a, root=secrets.token_bytes(32), leaf_count=1)
    reg.suspend_agency(chain_env.admin, chain_env.agency_b.address)
    reg.reinstate_agency(chain_env.admin, chain_env.agency_b.address)
    follower = EventFollower(reg, from_block=start, names=("AgencySuspended",), timestamps=False)
    (event,) = follower.poll()
    assert event.name == "AgencySuspended"
    assert event.args["agency"] == chain_env.agency_b.address
    assert event.timestamp == 0


def test_the_verifiers_cache_is_emptied_by_the_events_it_reads(chain_env: ChainEnv) -> None:
    reg = chain_env.registry
    reader = CachingChainReader(
        registry_for=lambda chain_id, address: reg, revocation_ttl=3600, watched=reg
    )
    assert reader.sync() == 0  # the first sync starts following at the next block
    generation = reader.generation
    reg.rotate_signing_key(
        chain_env.agency_a, chain_env.admin, keys.public_key_bytes(keys.generate_signing_key())
    )
    reg.suspend_agency(chain_env.admin, chain_env.agency_a.address)
    assert reader.sync(span=1) == 2  # SigningKeyRotated and AgencySuspended; not the proposal
    assert reader.generation > generation
    assert reader.sync() == 0
