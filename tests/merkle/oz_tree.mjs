// Reference oracle for tests/merkle: builds OpenZeppelin StandardMerkleTree(["uint8", "bytes32"])
// trees over (kind, digest) pairs (protocol v2: 1 file, 2 structured record) and prints what our
// Python registry.merkle must reproduce bit for bit.
//
// stdin:  JSON [{"digests": ["0x..32 bytes", ...], "kinds": [1|2, ...], "multiproof": [valueIndex,
//          ...]}, ...]
// stdout: JSON [{"root", "proofs": [[...], ...] (by value index), "leaves": [...] (leaf hash
//          by value index), "multiproof": {"leaves": [[kind, digest], ...], "leafHashes",
//          "proof", "proofFlags"}}, ...]
//
// @openzeppelin/merkle-tree is resolved from <repo>/contracts/node_modules, where
// scripts/setup.sh installs it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../contracts/package.json', import.meta.url));
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const cases = JSON.parse(readFileSync(0, 'utf8'));
const results = cases.map(({ digests, kinds, multiproof }) => {
  const values = digests.map((d, i) => [kinds[i], d]);
  const tree = StandardMerkleTree.of(values, ['uint8', 'bytes32']);
  const proofs = values.map((_, i) => tree.getProof(i));
  const leaves = values.map((v) => tree.leafHash(v));
  const mp = tree.getMultiProof(multiproof);
  return {
    root: tree.root,
    proofs,
    leaves,
    multiproof: {
      leaves: mp.leaves.map(([k, d]) => [Number(k), d]),
      leafHashes: mp.leaves.map((v) => tree.leafHash(v)),
      proof: mp.proof,
      proofFlags: mp.proofFlags,
    },
  };
});
process.stdout.write(JSON.stringify(results));
