"""The project's exception hierarchy: one root, one subclass per failure.

The CLI maps these to a message and an exit code in one place; the API maps them
to problem+json in one handler. Every message says what was wrong and where.

Every layer's failures are defined here, the chain's and the store's included
(`registry.store.errors` re-exports the store's), so that the doors map them without
importing the layers that raise them.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Root of every error this project raises on purpose."""

    exit_code: int = 2


class InvalidInput(RegistryError, ValueError):
    """Input (a record, a file, an argument) is malformed.

    `field` is the JSON path or pointer at fault (`merkle.proof[0]`, `body/record/a`), None
    when the input as a whole is; `problem` says what is wrong there. The message is
    `field: problem` (just `problem` without a field), so it always names where."""

    def __init__(self, problem: str = "", *, field: str | None = None) -> None:
        super().__init__(problem if field is None else f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidRecord(InvalidInput):
    """A structured record cannot be sealed: wrong type, NaN, duplicate key, too deep, too big."""


class RedactionError(InvalidInput):
    """A redaction names a path that is not in the document."""


class InvalidDocument(InvalidInput):
    """A sealed document is malformed or inconsistent."""


class InvalidReceipt(InvalidInput):
    """A receipt is malformed: wrong version, bad hex, wrong length, bad checksum."""


class InvalidProof(InvalidInput):
    """A Merkle proof or multiproof is malformed or does not lead to the root."""


class InvalidTrustList(InvalidInput):
    """A trust list is malformed: a missing or ill-typed field, a bad CAIP-10 id or date."""


class TrustListRejected(RegistryError):
    """A well-formed trust list a verifier must not use: expired, rolled back, badly or
    unknowingly signed, or with an extension it does not understand marked critical."""

    exit_code = 1


class TamperedDocument(RegistryError):
    """A document's recomputed digest does not match the digest its receipt names."""

    exit_code = 1


class SigningKeyError(RegistryError):
    """A signing key cannot be loaded, decrypted or used."""


class WrongPassphrase(SigningKeyError):
    """A keystore or key file could not be decrypted with the passphrase given."""


class ChainError(RegistryError):
    """Something went wrong talking to the chain."""

    exit_code = 3


class ChainUnavailable(ChainError):
    """The JSON-RPC node cannot be reached or timed out: nothing could be checked."""


class NoNodeForChain(ChainUnavailable):
    """No JSON-RPC node is configured for the chain a receipt names."""


class WrongChain(ChainError):
    """The node answers for a different chain id than the one expected."""

    exit_code = 2


class RegistryNotFound(ChainError):
    """The address given holds no RecordRegistry contract on this chain."""

    exit_code = 2


class TransactionFailed(ChainError):
    """A transaction reverted or was dropped; the message names the contract error."""

    exit_code = 1


class ContractRevert(TransactionFailed):
    """The contract refused the call with a named custom error."""

    def __init__(self, error_name: str, args: dict[str, object], message: str) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = args


class CompilerUnavailable(RegistryError):
    """No Solidity compiler (native solc or npm solcjs) is available to rebuild the contract."""


class UnknownAgency(RegistryError):
    """The account is not a registered agency."""


class ConfigError(RegistryError):
    """The settings or config file are invalid."""


class StoreError(RegistryError):
    """The record store refused or failed an operation."""


class StoreUnavailable(StoreError):
    """The database cannot be opened or reached: nothing could be read or written."""

    exit_code = 3


class WrongStore(StoreError):
    """This store belongs to another chain or registry; mixing them is refused."""


class DuplicateRecord(StoreError):
    """Kept for callers of v1; the store no longer raises it (digests are unique per agency)."""

    def __init__(self, message: str, *, digest: bytes, agency_id: int) -> None:
        super().__init__(message)
        self.digest = digest
        self.agency_id = agency_id


class DuplicateAgency(StoreError):
    """An agency with this address is already in the store."""


class NotFound(StoreError):
    """A batch, agency, token or revocation id names nothing in the store."""


class WrongAgency(StoreError):
    """The batch or record belongs to another agency."""


class InvalidTransition(StoreError):
    """A batch or revocation cannot move from its current state to the one asked for."""


class ClaimLost(StoreError):
    """Records to seal are no longer pending for this agency (another worker sealed them)."""


class ReferenceTaken(StoreError):
    """An agency's reference (its own key for a record) already names another of its records,
    or the record already carries another reference: references are unique per agency."""

    def __init__(self, message: str, *, reference: str) -> None:
        super().__init__(message)
        self.reference = reference
