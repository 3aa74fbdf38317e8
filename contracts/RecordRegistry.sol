// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title RecordRegistry
/// @notice Government agencies anchor the Merkle roots of the records they issue; anyone checks
///         a record's inclusion, anchor, issuing agency and revocation in one view call.
/// @dev No personal data is ever stored: only 32-byte hashes and Merkle roots. Every state change
///      emits an event, so the event log alone rebuilds the whole registry.
contract RecordRegistry is AccessControl {
    /// @notice Lifecycle of an agency account. `None` means never registered.
    enum AgencyStatus {
        None,
        Active,
        Suspended
    }

    /// @dev One storage slot: read once by every `anchor` call (gas).
    struct Agency {
        AgencyStatus status;
        uint64 registeredAt;
        uint64 statusChangedAt;
    }

    /// @dev One storage slot per anchor: 160 + 64 + 32 bits.
    struct Anchor {
        address agency;
        uint64 anchoredAt;
        uint32 leafCount;
    }

    /// @dev One slot: 160 + 40 + 40 bits; 40-bit timestamps last until the year 36812.
    struct KeyWindow {
        address agency;
        uint40 validFrom;
        uint40 validUntil;
    }

    struct Revocation {
        uint64 revokedAt;
        uint8 reason;
        bytes32 replacement;
    }

    /// @notice Everything a verifier needs about one record, answered by `check`.
    struct CheckResult {
        bool included;
        address agency;
        uint64 anchoredAt;
        uint32 leafCount;
        AgencyStatus agencyStatus;
        uint64 agencyStatusChangedAt;
        Revocation leafRevocation;
        Revocation rootRevocation;
    }

    uint8 public constant REASON_ISSUED_IN_ERROR = 1;
    uint8 public constant REASON_SUPERSEDED = 2;
    uint8 public constant REASON_FRAUD = 3;
    uint8 public constant REASON_WITHDRAWN = 4;
    uint8 public constant REASON_COURT_ORDER = 5;

    /// @notice Interface tag checked by off-chain clients before trusting an address.
    bytes32 public constant REGISTRY_INTERFACE = keccak256("RecordRegistry/v1");

    mapping(address account => Agency) private _agencies;
    mapping(address account => string) private _agencyNames;
    mapping(address account => bytes32) private _currentKeys;
    mapping(bytes32 key => KeyWindow) private _keys;
    mapping(bytes32 root => Anchor) private _anchors;
    /// @dev Revocations are scoped to the agency that anchored the record, so that no agency can
    ///      revoke another's record by anchoring the same leaf in a batch of its own.
    mapping(address agency => mapping(bytes32 hash => Revocation)) private _revocations;

    event AgencyRegistered(address indexed account, string name, bytes32 indexed signingKey);
    event AgencySuspended(address indexed account);
    event AgencyReinstated(address indexed account);
    event SigningKeyRotated(address indexed agency, bytes32 indexed oldKey, bytes32 indexed newKey);
    event Anchored(bytes32 indexed root, address indexed agency, uint32 leafCount);
    event Revoked(
        bytes32 indexed root,
        bytes32 indexed hash,
        address indexed agency,
        uint8 reason,
        bytes32 replacement
    );

    error ZeroAddress();
    error EmptyName();
    error AgencyAlreadyRegistered(address account);
    error UnknownAgency(address account);
    error AgencyNotActive(address account);
    error AgencyNotSuspended(address account);
    error ZeroSigningKey();
    error SigningKeyAlreadyRegistered(bytes32 key);
    error ZeroRoot();
    error ZeroLeafCount();
    error AlreadyAnchored(bytes32 root);
    error NotAnchored(bytes32 root);
    error NotAnchoringAgency(bytes32 root, address caller);
    error InvalidProof(bytes32 root, bytes32 leaf);
    error InvalidReason(uint8 reason);
    error MissingReplacement();
    error AlreadyRevoked(bytes32 hash);

    /// @notice Deploys the registry; `admin` becomes the registry authority.
    /// @param admin The digital-government body allowed to register and suspend agencies.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ admin

    /// @notice Registers `account` as an issuing agency with its first Ed25519 signing key.
    /// @param account The agency's transaction-sending address.
    /// @param name Human-readable agency name (public).
    /// @param signingKey The agency's 32-byte Ed25519 public key; its window opens now.
    function registerAgency(address account, string calldata name, bytes32 signingKey)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert ZeroAddress();
        if (bytes(name).length == 0) revert EmptyName();
        if (_agencies[account].status != AgencyStatus.None) revert AgencyAlreadyRegistered(account);
        _agencies[account] = Agency(AgencyStatus.Active, uint64(block.timestamp), uint64(block.timestamp));
        _agencyNames[account] = name;
        _openKey(account, signingKey);
        emit AgencyRegistered(account, name, signingKey);
    }

    /// @notice Suspends an agency: it can no longer anchor, revoke or rotate keys.
    ///         Records it anchored before stay anchored; verifiers see the suspension time.
    /// @param account The agency to suspend.
    function suspendAgency(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agency storage agency = _agencies[account];
        if (agency.status == AgencyStatus.None) revert UnknownAgency(account);
        if (agency.status != AgencyStatus.Active) revert AgencyNotActive(account);
        agency.status = AgencyStatus.Suspended;
        agency.statusChangedAt = uint64(block.timestamp);
        emit AgencySuspended(account);
    }

    /// @notice Reinstates a suspended agency.
    /// @param account The agency to reinstate.
    function reinstateAgency(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agency storage agency = _agencies[account];
        if (agency.status == AgencyStatus.None) revert UnknownAgency(account);
        if (agency.status != AgencyStatus.Suspended) revert AgencyNotSuspended(account);
        agency.status = AgencyStatus.Active;
        agency.statusChangedAt = uint64(block.timestamp);
        emit AgencyReinstated(account);
    }

    // ----------------------------------------------------------------- agency

    /// @notice Replaces the caller's signing key. The old key's window closes at this block's time;
    ///         the new key's window opens at it. A key can never be registered twice.
    /// @param newKey The new 32-byte Ed25519 public key.
    function rotateSigningKey(bytes32 newKey) external {
        _requireActiveAgency(msg.sender);
        bytes32 oldKey = _currentKeys[msg.sender];
        _keys[oldKey].validUntil = uint40(block.timestamp);
        _openKey(msg.sender, newKey);
        emit SigningKeyRotated(msg.sender, oldKey, newKey);
    }

    /// @notice Anchors the Merkle root of a batch of `leafCount` records issued by the caller.
    /// @param root The batch's Merkle root (OpenZeppelin StandardMerkleTree, leaf type bytes32).
    /// @param leafCount Number of records in the batch.
    function anchor(bytes32 root, uint32 leafCount) external {
        // Gas: this is the hot path; one agency SLOAD, one anchor SLOAD+SSTORE, one LOG3.
        if (_agencies[msg.sender].status != AgencyStatus.Active) _revertNotActive(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        if (leafCount == 0) revert ZeroLeafCount();
        Anchor storage slot = _anchors[root];
        if (slot.agency != address(0)) revert AlreadyAnchored(root);
        _anchors[root] = Anchor(msg.sender, uint64(block.timestamp), leafCount);
        emit Anchored(root, msg.sender, leafCount);
    }

    /// @notice Revokes one record (`leaf` with its `proof` into `root`) or a whole batch
    ///         (`leaf == root`, empty proof). Only the agency that anchored `root` may do so.
    /// @param root An anchored batch root of the caller.
    /// @param leaf The record's leaf, or `root` itself to revoke the whole batch.
    /// @param proof Merkle proof of `leaf` in `root` (sorted pairs), checked on chain.
    /// @param reason 1 issued in error, 2 superseded, 3 fraud, 4 withdrawn, 5 court order.
    /// @param replacement Digest of the superseding record (required for reason 2), or zero.
    function revoke(bytes32 root, bytes32 leaf, bytes32[] calldata proof, uint8 reason, bytes32 replacement)
        external
    {
        _requireActiveAgency(msg.sender);
        address anchoredBy = _anchors[root].agency;
        if (anchoredBy == address(0)) revert NotAnchored(root);
        if (anchoredBy != msg.sender) revert NotAnchoringAgency(root, msg.sender);
        if (reason == 0 || reason > REASON_COURT_ORDER) revert InvalidReason(reason);
        if (reason == REASON_SUPERSEDED && replacement == bytes32(0)) revert MissingReplacement();
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(root, leaf);
        Revocation storage existing = _revocations[msg.sender][leaf];
        if (existing.revokedAt != 0) revert AlreadyRevoked(leaf);
        _revocations[msg.sender][leaf] = Revocation(uint64(block.timestamp), reason, replacement);
        emit Revoked(root, leaf, msg.sender, reason, replacement);
    }

    // ------------------------------------------------------------------ views

    /// @notice The anchor of `root`; a zero agency means not anchored.
    function anchorOf(bytes32 root) external view returns (address agency, uint64 anchoredAt, uint32 leafCount) {
        Anchor memory a = _anchors[root];
        return (a.agency, a.anchoredAt, a.leafCount);
    }

    /// @notice The revocation of `hash` (a leaf or a root) by `agency`; revokedAt 0 = not revoked.
    function revocationOf(address agency, bytes32 hash)
        external
        view
        returns (uint64 revokedAt, uint8 reason, bytes32 replacement)
    {
        Revocation memory r = _revocations[agency][hash];
        return (r.revokedAt, r.reason, r.replacement);
    }

    /// @notice An agency's status, registration and last status change times, current key and name.
    function agencyOf(address account)
        external
        view
        returns (
            AgencyStatus status,
            uint64 registeredAt,
            uint64 statusChangedAt,
            bytes32 signingKey,
            string memory name
        )
    {
        Agency memory a = _agencies[account];
        return (a.status, a.registeredAt, a.statusChangedAt, _currentKeys[account], _agencyNames[account]);
    }

    /// @notice The agency a signing key belongs to and its validity window; validUntil 0 = current.
    function keyOf(bytes32 key) external view returns (address agency, uint64 validFrom, uint64 validUntil) {
        KeyWindow memory w = _keys[key];
        return (w.agency, w.validFrom, w.validUntil);
    }

    /// @notice Inclusion of `leaf` in `root`, the anchor of `root`, the anchoring agency's status,
    ///         and that agency's revocations of the leaf and of the whole batch, in one call.
    /// @param leaf The record's leaf (keccak256(keccak256(digest))).
    /// @param proof Merkle proof of `leaf` in `root` (empty when `leaf == root`).
    /// @param root The batch root the receipt names.
    function check(bytes32 leaf, bytes32[] calldata proof, bytes32 root)
        external
        view
        returns (CheckResult memory result)
    {
        result.included = MerkleProof.verifyCalldata(proof, root, leaf);
        Anchor memory a = _anchors[root];
        result.agency = a.agency;
        result.anchoredAt = a.anchoredAt;
        result.leafCount = a.leafCount;
        if (a.agency != address(0)) {
            Agency memory ag = _agencies[a.agency];
            result.agencyStatus = ag.status;
            result.agencyStatusChangedAt = ag.statusChangedAt;
            // A leaf revocation only counts when the proof ties the leaf to this root.
            if (result.included) result.leafRevocation = _revocations[a.agency][leaf];
            result.rootRevocation = _revocations[a.agency][root];
        }
    }

    // --------------------------------------------------------------- internal

    function _openKey(address account, bytes32 key) private {
        if (key == bytes32(0)) revert ZeroSigningKey();
        if (_keys[key].agency != address(0)) revert SigningKeyAlreadyRegistered(key);
        _keys[key] = KeyWindow(account, uint40(block.timestamp), 0);
        _currentKeys[account] = key;
    }

    function _requireActiveAgency(address account) private view {
        if (_agencies[account].status != AgencyStatus.Active) _revertNotActive(account);
    }

    function _revertNotActive(address account) private view {
        if (_agencies[account].status == AgencyStatus.None) revert UnknownAgency(account);
        revert AgencyNotActive(account);
    }
}
