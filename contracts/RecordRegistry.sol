// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title RecordRegistry (protocol v2)
/// @notice Government agencies anchor the Merkle roots of the records they issue; anyone checks
///         a record's inclusion, anchor, agency standing and revocation in one view call.
/// @dev No personal data is ever stored: only 32-byte hashes and Merkle roots. Every state change
///      emits an event, so the event log alone rebuilds the whole registry.
///
///      v2 scopes everything to the agency: anchors, revocations and signing keys live in
///      per-agency namespaces, so no agency can block, revoke or take over another's record or key
///      (front-running a pending `anchor` only anchors the root for the copier, under its name).
///      An agency has a stable identity (the address it was registered with) and a current
///      transaction account that the registry authority can move; key rotations need the
///      authority's confirmation; the authority can mark an agency compromised since a past time
///      (its anchors and revocations in the compromise window are void for every verifier) and can
///      revoke any record.
contract RecordRegistry is AccessControl {
    /// @notice Lifecycle of an agency. `None` means never registered.
    enum AgencyStatus {
        None,
        Active,
        Suspended,
        Compromised
    }

    /// @dev Hot-path slot, one per transaction account (160 + 8 + 8 + 64 bits): `anchor` and
    ///      `revoke` read only this slot to authorise the caller.
    struct Account {
        address agency;
        bool active;
        bool retired;
        uint64 notBefore;
    }

    /// @dev Two slots; read by views and admin functions only.
    struct Agency {
        AgencyStatus status;
        uint64 registeredAt;
        uint64 statusChangedAt;
        address account;
    }

    /// @dev One storage slot per anchor (64 + 64 + 32 bits). Zero `anchoredAt` = not anchored.
    struct Anchor {
        uint64 anchoredAt;
        uint64 blockNumber;
        uint32 leafCount;
    }

    /// @dev One slot (two uint40 times, good until the year 36812). Zero `validFrom` = not a key
    ///      of this agency; zero `validUntil` = still current.
    struct KeyWindow {
        uint40 validFrom;
        uint40 validUntil;
    }

    /// @dev First slot: time, reason, who; the replacement's slot is only written when non-zero.
    struct Revocation {
        uint64 revokedAt;
        uint8 reason;
        bool byAuthority;
        bytes32 replacement;
    }

    /// @notice A revocation as `check` reports it: `isVoid` marks an agency revocation made inside a
    ///         compromise window, which every verifier ignores.
    struct RevocationView {
        uint64 revokedAt;
        uint8 reason;
        bool byAuthority;
        bool isVoid;
        bytes32 replacement;
    }

    /// @notice [since, until] (inclusive) during which an agency's account was in a thief's hands;
    ///         `until` 0 = still open (the agency has not been moved to a new account yet).
    struct Compromise {
        uint64 since;
        uint64 until;
    }

    /// @notice One entry of an agency's status history (never overwritten).
    struct StatusChange {
        AgencyStatus status;
        uint64 at;
    }

    /// @notice Everything a verifier needs about one record, answered by `check`.
    struct CheckResult {
        bool included;
        uint64 anchoredAt;
        uint64 anchoredBlock;
        uint32 leafCount;
        AgencyStatus agencyStatus;
        uint64 agencyStatusChangedAt;
        uint64 voidSince;
        RevocationView leafRevocation;
        RevocationView rootRevocation;
    }

    uint8 public constant REASON_ISSUED_IN_ERROR = 1;
    uint8 public constant REASON_SUPERSEDED = 2;
    uint8 public constant REASON_FRAUD = 3;
    uint8 public constant REASON_WITHDRAWN = 4;
    uint8 public constant REASON_COURT_ORDER = 5;

    /// @notice Interface tag checked by off-chain clients before trusting an address.
    bytes32 public constant REGISTRY_INTERFACE = keccak256("RecordRegistry/v2");

    mapping(address account => Account) private _accounts;
    mapping(address agency => Agency) private _agencies;
    mapping(address agency => string) private _agencyNames;
    mapping(address agency => bytes32) private _currentKeys;
    mapping(address agency => bytes32) private _pendingKeys;
    mapping(address agency => mapping(bytes32 key => KeyWindow)) private _keys;
    mapping(address agency => mapping(bytes32 root => Anchor)) private _anchors;
    mapping(address agency => mapping(bytes32 hash => Revocation)) private _revocations;
    mapping(address agency => Compromise[]) private _compromises;
    mapping(address agency => StatusChange[]) private _history;

    event AgencyRegistered(address indexed agency, string name, bytes32 indexed signingKey);
    event AgencySuspended(address indexed agency);
    event AgencyReinstated(address indexed agency);
    event AgencyCompromised(address indexed agency, uint64 since);
    event AgencyMoved(address indexed agency, address indexed oldAccount, address indexed newAccount);
    event SigningKeyProposed(address indexed agency, bytes32 indexed key);
    event SigningKeyRotated(address indexed agency, bytes32 indexed oldKey, bytes32 indexed newKey);
    event Anchored(address indexed agency, bytes32 indexed root, uint32 leafCount);
    event Revoked(
        address indexed agency, bytes32 indexed root, bytes32 indexed hash, uint8 reason, bytes32 replacement
    );
    event RevokedByAuthority(address indexed agency, bytes32 indexed root, bytes32 indexed hash, uint8 reason);

    error ZeroAddress();
    error EmptyName();
    error AgencyAlreadyRegistered(address account);
    error AccountInUse(address account);
    error UnknownAgency(address agency);
    error NotAnAgencyAccount(address account);
    error AccountRetired(address account);
    error AgencyNotActive(address agency);
    error AgencyNotSuspended(address agency);
    error AccountNotYetUsable(address account, uint64 notBefore);
    error ZeroSigningKey();
    error SigningKeyAlreadyUsed(address agency, bytes32 key);
    error NoSuchPendingKey(address agency, bytes32 key);
    error InvalidCompromiseTime(uint64 since);
    error ZeroRoot();
    error ZeroLeafCount();
    error AlreadyAnchored(address agency, bytes32 root);
    error NotAnchored(address agency, bytes32 root);
    error InvalidProof(bytes32 root, bytes32 leaf);
    error InvalidReason(uint8 reason);
    error MissingReplacement();
    error UnexpectedReplacement();
    error AlreadyRevoked(address agency, bytes32 hash);

    /// @notice Deploys the registry; `admin` becomes the registry authority.
    /// @param admin The digital-government body allowed to register and govern agencies.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ authority

    /// @notice Registers `account` as an issuing agency with its first Ed25519 signing key. The
    ///         address is the agency's identity for good, even after its account is moved.
    /// @param account The agency's identity and first transaction account.
    /// @param name Human-readable agency name (public).
    /// @param signingKey The agency's 32-byte Ed25519 public key; its window opens now.
    function registerAgency(address account, string calldata name, bytes32 signingKey)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert ZeroAddress();
        if (bytes(name).length == 0) revert EmptyName();
        if (signingKey == bytes32(0)) revert ZeroSigningKey();
        if (_agencies[account].status != AgencyStatus.None) revert AgencyAlreadyRegistered(account);
        Account storage slot = _accounts[account];
        if (slot.agency != address(0) || slot.retired) revert AccountInUse(account);
        uint64 nowTs = uint64(block.timestamp);
        _agencies[account] = Agency(AgencyStatus.Active, nowTs, nowTs, account);
        _accounts[account] = Account(account, true, false, 0);
        _agencyNames[account] = name;
        _keys[account][signingKey] = KeyWindow(uint40(block.timestamp), 0);
        _currentKeys[account] = signingKey;
        _history[account].push(StatusChange(AgencyStatus.Active, nowTs));
        emit AgencyRegistered(account, name, signingKey);
    }

    /// @notice Suspends an active agency: it can no longer anchor, revoke or propose keys. What it
    ///         anchored before stays valid; the suspension is kept in its status history.
    function suspendAgency(address agency) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agency storage a = _requireAgency(agency);
        if (a.status != AgencyStatus.Active) revert AgencyNotActive(agency);
        _setStatus(agency, a, AgencyStatus.Suspended);
        emit AgencySuspended(agency);
    }

    /// @notice Reinstates a suspended agency (a compromised one must be moved to a new account).
    function reinstateAgency(address agency) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agency storage a = _requireAgency(agency);
        if (a.status != AgencyStatus.Suspended) revert AgencyNotSuspended(agency);
        _setStatus(agency, a, AgencyStatus.Active);
        emit AgencyReinstated(agency);
    }

    /// @notice Marks an agency's transaction account as stolen since `since` (a past or present
    ///         block time). Its anchors and revocations at or after `since` (until it is moved to a
    ///         new account) are void for every verifier; its earlier records stay valid. Calling
    ///         again while the window is open can only move `since` earlier.
    function markCompromised(address agency, uint64 since) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agency storage a = _requireAgency(agency);
        if (since == 0 || since > block.timestamp || since < a.registeredAt) revert InvalidCompromiseTime(since);
        Compromise[] storage windows = _compromises[agency];
        uint256 n = windows.length;
        if (n > 0 && windows[n - 1].until == 0) {
            // Still open: the authority may only widen it.
            if (since >= windows[n - 1].since) revert InvalidCompromiseTime(since);
            if (n > 1 && since <= windows[n - 2].until) revert InvalidCompromiseTime(since);
            windows[n - 1].since = since;
        } else {
            // Windows never overlap: a new one starts after the last one closed.
            if (n > 0 && since <= windows[n - 1].until) revert InvalidCompromiseTime(since);
            windows.push(Compromise(since, 0));
        }
        // A key proposed from the stolen account must never be confirmed by mistake later.
        delete _pendingKeys[agency];
        _setStatus(agency, a, AgencyStatus.Compromised);
        emit AgencyCompromised(agency, since);
    }

    /// @notice Moves an agency to a new transaction account, keeping its identity, keys, anchors
    ///         and history. The old account is retired for good. An open compromise window closes
    ///         now and a compromised agency becomes active again; the new account can act from the
    ///         next second on, so nothing it does falls inside the closed window.
    function moveAgency(address agency, address newAccount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agency storage a = _requireAgency(agency);
        if (newAccount == address(0)) revert ZeroAddress();
        Account storage next = _accounts[newAccount];
        if (next.agency != address(0) || next.retired || _agencies[newAccount].status != AgencyStatus.None) {
            revert AccountInUse(newAccount);
        }
        address old = a.account;
        _accounts[old] = Account(address(0), false, true, 0);
        delete _pendingKeys[agency]; // proposed from the old account: propose again from the new
        a.account = newAccount;
        uint64 nowTs = uint64(block.timestamp);
        Compromise[] storage windows = _compromises[agency];
        uint256 n = windows.length;
        if (n > 0 && windows[n - 1].until == 0) windows[n - 1].until = nowTs;
        _accounts[newAccount] = Account(agency, false, false, nowTs + 1);
        if (a.status == AgencyStatus.Compromised) {
            _setStatus(agency, a, AgencyStatus.Active);
        } else {
            _accounts[newAccount].active = a.status == AgencyStatus.Active;
        }
        emit AgencyMoved(agency, old, newAccount);
    }

    /// @notice Confirms the signing key the agency proposed. The old key's window closes at this
    ///         block's time and the new one opens at it (both ends inclusive for verifiers).
    function confirmSigningKey(address agency, bytes32 key) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireAgency(agency);
        if (key == bytes32(0) || _pendingKeys[agency] != key) revert NoSuchPendingKey(agency, key);
        if (_keys[agency][key].validFrom != 0) revert SigningKeyAlreadyUsed(agency, key);
        bytes32 oldKey = _currentKeys[agency];
        _keys[agency][oldKey].validUntil = uint40(block.timestamp);
        _keys[agency][key] = KeyWindow(uint40(block.timestamp), 0);
        _currentKeys[agency] = key;
        delete _pendingKeys[agency];
        emit SigningKeyRotated(agency, oldKey, key);
    }

    /// @notice Revokes any record or batch of `agency` (a court order, fraud): the authority's
    ///         revocation is never void and overrides the agency's own. No replacement.
    function revokeByAuthority(address agency, bytes32 root, bytes32 leaf, bytes32[] calldata proof, uint8 reason)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (_anchors[agency][root].anchoredAt == 0) revert NotAnchored(agency, root);
        if (reason == 0 || reason > REASON_COURT_ORDER || reason == REASON_SUPERSEDED) revert InvalidReason(reason);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(root, leaf);
        Revocation storage r = _revocations[agency][leaf];
        if (r.byAuthority) revert AlreadyRevoked(agency, leaf);
        r.revokedAt = uint64(block.timestamp);
        r.reason = reason;
        r.byAuthority = true;
        if (r.replacement != bytes32(0)) r.replacement = bytes32(0);
        emit RevokedByAuthority(agency, root, leaf, reason);
    }

    // ------------------------------------------------------------------ agency

    /// @notice Proposes a new Ed25519 signing key for the caller's agency; it takes effect only
    ///         when the registry authority confirms it, so a stolen transaction key cannot install
    ///         a thief's signing key.
    function proposeSigningKey(bytes32 newKey) external {
        address agency = _actingAgency();
        if (newKey == bytes32(0)) revert ZeroSigningKey();
        if (_keys[agency][newKey].validFrom != 0) revert SigningKeyAlreadyUsed(agency, newKey);
        _pendingKeys[agency] = newKey;
        emit SigningKeyProposed(agency, newKey);
    }

    /// @notice Anchors the Merkle root of a batch of `leafCount` records issued by the caller's
    ///         agency, in that agency's own namespace.
    /// @param root The batch's Merkle root (OpenZeppelin StandardMerkleTree, leaf (uint8, bytes32)).
    /// @param leafCount Number of records in the batch.
    function anchor(bytes32 root, uint32 leafCount) external {
        // Gas: the hot path. One account SLOAD, one anchor SLOAD+SSTORE, one LOG3; slots are
        // read and written whole (layouts in the struct comments) instead of field by field.
        address agency = _actingAgency();
        if (root == bytes32(0)) revert ZeroRoot();
        if (leafCount == 0) revert ZeroLeafCount();
        Anchor storage slot = _anchors[agency][root];
        uint256 existing;
        assembly ("memory-safe") {
            existing := sload(slot.slot)
        }
        if (existing != 0) revert AlreadyAnchored(agency, root);
        assembly ("memory-safe") {
            // Anchor: anchoredAt bits 0-63, blockNumber 64-127, leafCount 128-159.
            sstore(slot.slot, or(or(timestamp(), shl(64, number())), shl(128, leafCount)))
        }
        emit Anchored(agency, root, leafCount);
    }

    /// @notice Revokes one record (`leaf` with its `proof` into `root`) or a whole batch
    ///         (`leaf == root`, empty proof) of the caller's agency.
    /// @param reason 1 issued in error, 2 superseded, 3 fraud, 4 withdrawn, 5 court order.
    /// @param replacement Digest of the same agency's superseding record: required for reason 2,
    ///        zero otherwise. (That it is the agency's record is checked off chain before sending:
    ///        it may still be pending.)
    function revoke(bytes32 root, bytes32 leaf, bytes32[] calldata proof, uint8 reason, bytes32 replacement)
        external
    {
        address agency = _actingAgency();
        if (_anchors[agency][root].anchoredAt == 0) revert NotAnchored(agency, root);
        if (reason == 0 || reason > REASON_COURT_ORDER) revert InvalidReason(reason);
        if (reason == REASON_SUPERSEDED) {
            if (replacement == bytes32(0)) revert MissingReplacement();
        } else if (replacement != bytes32(0)) {
            revert UnexpectedReplacement();
        }
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(root, leaf);
        _store(agency, root, leaf, reason, replacement);
    }

    /// @notice Revokes a whole batch of the caller's agency: `revoke(root, root, [], reason, 0)`
    ///         with less calldata (gas). Superseding needs a per-record replacement, so reason 2 is
    ///         refused here.
    function revokeBatch(bytes32 root, uint8 reason) external {
        address agency = _actingAgency();
        if (_anchors[agency][root].anchoredAt == 0) revert NotAnchored(agency, root);
        if (reason == 0 || reason > REASON_COURT_ORDER || reason == REASON_SUPERSEDED) revert InvalidReason(reason);
        _store(agency, root, root, reason, bytes32(0));
    }

    // ------------------------------------------------------------------ views

    /// @notice The anchor of `root` by `agency`; anchoredAt 0 = not anchored by that agency.
    function anchorOf(address agency, bytes32 root)
        external
        view
        returns (uint64 anchoredAt, uint64 blockNumber, uint32 leafCount)
    {
        Anchor memory a = _anchors[agency][root];
        return (a.anchoredAt, a.blockNumber, a.leafCount);
    }

    /// @notice The revocation of `hash` (a leaf or a root) of `agency`'s records; revokedAt 0 = not
    ///         revoked. Includes revocations a verifier treats as void (see `check`).
    function revocationOf(address agency, bytes32 hash)
        external
        view
        returns (uint64 revokedAt, uint8 reason, bool byAuthority, bytes32 replacement)
    {
        Revocation memory r = _revocations[agency][hash];
        return (r.revokedAt, r.reason, r.byAuthority, r.replacement);
    }

    /// @notice An agency's status, times, current transaction account, current key and name.
    function agencyOf(address agency)
        external
        view
        returns (
            AgencyStatus status,
            uint64 registeredAt,
            uint64 statusChangedAt,
            address account,
            bytes32 signingKey,
            string memory name
        )
    {
        Agency memory a = _agencies[agency];
        return (a.status, a.registeredAt, a.statusChangedAt, a.account, _currentKeys[agency], _agencyNames[agency]);
    }

    /// @notice The signing key `agency` proposed and the authority has not confirmed yet (or zero).
    function pendingKeyOf(address agency) external view returns (bytes32) {
        return _pendingKeys[agency];
    }

    /// @notice The agency a transaction account acts for (zero if none), and whether it can act.
    function accountOf(address account)
        external
        view
        returns (address agency, bool active, bool retired, uint64 notBefore)
    {
        Account memory a = _accounts[account];
        return (a.agency, a.active, a.retired, a.notBefore);
    }

    /// @notice The validity window of `key` as a key of `agency`; validFrom 0 = never its key,
    ///         validUntil 0 = still current.
    function keyOf(address agency, bytes32 key) external view returns (uint64 validFrom, uint64 validUntil) {
        KeyWindow memory w = _keys[agency][key];
        return (w.validFrom, w.validUntil);
    }

    /// @notice Every compromise window of `agency`, oldest first (kept for good).
    function compromisesOf(address agency) external view returns (Compromise[] memory) {
        return _compromises[agency];
    }

    /// @notice Every status change of `agency`, oldest first (never overwritten).
    function statusHistoryOf(address agency) external view returns (StatusChange[] memory) {
        return _history[agency];
    }

    /// @notice Inclusion of `leaf` in `root`, the anchor of `root` by `agency`, the agency's status,
    ///         the compromise window holding the anchor time (voidSince, 0 = none: the anchor is
    ///         not void), and the agency's and authority's revocations of the leaf and of the whole
    ///         batch, in one call.
    /// @param agency The agency the receipt names.
    /// @param leaf The record's leaf (StandardMerkleTree leaf of (uint8 kind, bytes32 digest)).
    /// @param proof Merkle proof of `leaf` in `root` (empty when `leaf == root`).
    /// @param root The batch root the receipt names.
    function check(address agency, bytes32 leaf, bytes32[] calldata proof, bytes32 root)
        external
        view
        returns (CheckResult memory result)
    {
        result.included = MerkleProof.verifyCalldata(proof, root, leaf);
        Anchor memory a = _anchors[agency][root];
        result.anchoredAt = a.anchoredAt;
        result.anchoredBlock = a.blockNumber;
        result.leafCount = a.leafCount;
        if (a.anchoredAt == 0) return result;
        Agency memory ag = _agencies[agency];
        result.agencyStatus = ag.status;
        result.agencyStatusChangedAt = ag.statusChangedAt;
        Compromise[] storage windows = _compromises[agency];
        result.voidSince = _windowHolding(windows, a.anchoredAt);
        // A leaf revocation only counts when the proof ties the leaf to this root.
        if (result.included) result.leafRevocation = _view(windows, _revocations[agency][leaf]);
        result.rootRevocation = _view(windows, _revocations[agency][root]);
    }

    // --------------------------------------------------------------- internal

    function _store(address agency, bytes32 root, bytes32 hash, uint8 reason, bytes32 replacement) private {
        Revocation storage r = _revocations[agency][hash];
        uint256 existing;
        assembly ("memory-safe") {
            existing := sload(r.slot)
        }
        if (existing != 0) revert AlreadyRevoked(agency, hash);
        assembly ("memory-safe") {
            // Revocation, first slot: revokedAt bits 0-63, reason 64-71, byAuthority 72-79 (0).
            sstore(r.slot, or(timestamp(), shl(64, reason)))
        }
        // Gas: the second slot is written only for a supersession.
        if (replacement != bytes32(0)) r.replacement = replacement;
        emit Revoked(agency, root, hash, reason, replacement);
    }

    function _view(Compromise[] storage windows, Revocation memory r) private view returns (RevocationView memory v) {
        if (r.revokedAt == 0) return v;
        v = RevocationView(r.revokedAt, r.reason, r.byAuthority, false, r.replacement);
        if (!r.byAuthority) v.isVoid = _windowHolding(windows, r.revokedAt) != 0;
    }

    /// @dev The `since` of the compromise window holding `t` (inclusive ends), or 0.
    function _windowHolding(Compromise[] storage windows, uint64 t) private view returns (uint64) {
        for (uint256 i = windows.length; i > 0; --i) {
            Compromise memory w = windows[i - 1];
            if (t >= w.since && (w.until == 0 || t <= w.until)) return w.since;
        }
        return 0;
    }

    /// @dev The agency the caller's account acts for; reverts unless it may act now.
    function _actingAgency() private view returns (address agency) {
        Account storage acct = _accounts[msg.sender];
        uint256 raw;
        assembly ("memory-safe") {
            raw := sload(acct.slot)
        }
        // Account: agency bits 0-159, active 160-167, retired 168-175, notBefore 176-239.
        agency = address(uint160(raw));
        if ((raw >> 160) & 0xff == 0 || block.timestamp < (raw >> 176)) {
            _revertCannotAct(msg.sender, _accounts[msg.sender]);
        }
    }

    function _requireAgency(address agency) private view returns (Agency storage a) {
        a = _agencies[agency];
        if (a.status == AgencyStatus.None) revert UnknownAgency(agency);
    }

    function _setStatus(address agency, Agency storage a, AgencyStatus status) private {
        uint64 nowTs = uint64(block.timestamp);
        a.status = status;
        a.statusChangedAt = nowTs;
        _accounts[a.account].active = status == AgencyStatus.Active;
        _history[agency].push(StatusChange(status, nowTs));
    }

    function _revertCannotAct(address account, Account memory acct) private pure {
        if (acct.retired) revert AccountRetired(account);
        if (acct.agency == address(0)) revert NotAnAgencyAccount(account);
        if (!acct.active) revert AgencyNotActive(acct.agency);
        revert AccountNotYetUsable(account, acct.notBefore);
    }
}
