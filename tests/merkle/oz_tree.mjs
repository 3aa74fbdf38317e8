// Reference oracle for tests/merkle: builds OpenZeppelin StandardMerkleTree(["bytes32"])
// trees and prints what our Python registry.merkle must reproduce bit for bit.
//
// stdin:  JSON [{"digests": ["0x..32 bytes", ...], "multiproof": [valueIndex, ...]}, ...]
// stdout: JSON [{"root", "proofs": [[...], ...] (by value index), "leaves": [...] (leaf hash
//          by value index), "multiproof": {"leaves", "leafHashes", "proof", "proofFlags"}}, ...]
//
// @openzeppelin/merkle-tree is resolved from <repo>/contracts/node_modules, where
// scripts/setup.sh installs it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../contracts/package.json', import.meta.url));
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const cases = JSON.parse(readFileSync(0, 'utf8'));
const results = cases.map(({ digests, multiproof }) => {
  const tree = StandardMerkleTree.of(
    digests.map((d) => [d]),
    ['bytes32'],
  );
  const proofs = digests.map((_, i) => tree.getProof(i));
  const leaves = digests.map((_, i) => tree.leafHash([digests[i]]));
  const mp = tree.getMultiProof(multiproof);
  return {
    root: tree.root,
    proofs,
    leaves,
    multiproof: {
      leaves: mp.leaves.map((v) => v[0]),
      leafHashes: mp.leaves.map((v) => tree.leafHash(v)),
      proof: mp.proof,
      proofFlags: mp.proofFlags,
    },
  };
});
process.stdout.write(JSON.stringify(results));
