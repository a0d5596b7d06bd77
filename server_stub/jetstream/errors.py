"""JetStream's error tree, and the API errors with nats-server's codes and texts (2.15.1)."""

from __future__ import annotations

from typing import Any

from nscpy.errors import NscError, NscValueError


class JetStreamError(NscError):
    """Base class of the JetStream engine's errors."""


class JsConfigError(JetStreamError, NscValueError):
    """The `jetstream {}` block or an account's JetStream limits are unusable."""


class StoreCorrupted(JetStreamError):
    """A stored block failed its integrity check: the bytes on disk are not what was written."""


class WrongKey(StoreCorrupted):
    """The store was sealed with a different key or cipher than the one configured."""


class ApiError(JetStreamError):
    """An error answered on the JetStream API, carrying nats-server's code, err_code and text."""

    def __init__(self, code: int, err_code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.err_code = err_code
        self.description = description

    def to_json(self) -> dict[str, Any]:
        """The `error` object of an API response."""
        return {"code": self.code, "err_code": self.err_code, "description": self.description}


class StoreWriteFailed(ApiError):
    """A write to a stream's files failed (disk full, I/O error); nothing was acknowledged.

    Answered as nats-server's JSStreamStoreFailedF (503 / 10077) with the reason as text.
    """

    def __init__(self, description: str) -> None:
        super().__init__(503, 10077, description)
        self.unwritten: tuple[int, ...] = ()  # seqs a failed write-out took back (FileStore)


# Constructors named after nats-server's JSErrorCodes, texts as observed on the wire.
def not_enabled() -> ApiError:
    """JSNotEnabledForAccountErr."""
    return ApiError(503, 10039, "JetStream not enabled for account")


def bad_request(description: str = "bad request") -> ApiError:
    """JSBadRequestErr."""
    return ApiError(400, 10003, description)


def invalid_json(detail: str) -> ApiError:
    """JSInvalidJSONErr; nats-server appends Go's decoder message, we append Python's."""
    return ApiError(400, 10025, f"invalid JSON: {detail}")


def stream_not_found() -> ApiError:
    """JSStreamNotFoundErr."""
    return ApiError(404, 10059, "stream not found")


def stream_name_exists() -> ApiError:
    """JSStreamNameExistErr."""
    return ApiError(400, 10058, "stream name already in use with a different configuration")


def stream_name_mismatch() -> ApiError:
    """JSStreamMismatchErr."""
    return ApiError(400, 10056, "stream name in subject does not match request")


def subjects_overlap() -> ApiError:
    """JSStreamSubjectOverlapErr."""
    return ApiError(400, 10065, "subjects overlap with an existing stream")


def invalid_config(description: str) -> ApiError:
    """JSStreamInvalidConfigF (code 500 as nats-server sends it)."""
    return ApiError(500, 10052, description)


def no_message_found() -> ApiError:
    """JSNoMessageFoundErr (MSG.GET)."""
    return ApiError(404, 10037, "no message found")


def sequence_not_found(seq: int) -> ApiError:
    """JSSequenceNotFoundErrF (MSG.DELETE of a sequence the stream does not hold)."""
    return ApiError(400, 10043, f"sequence {seq} not found")


def consumer_not_found() -> ApiError:
    """JSConsumerNotFoundErr."""
    return ApiError(404, 10014, "consumer not found")


def consumer_name_mismatch() -> ApiError:
    """JSConsumerDurableNameNotMatchSubjectErr."""
    return ApiError(400, 10017, "consumer name in subject does not match durable name in request")


def consumer_exists() -> ApiError:
    """JSConsumerNameExistErr."""
    return ApiError(400, 10013, "consumer name already in use")


def max_streams() -> ApiError:
    """JSMaximumStreamsLimitErr."""
    return ApiError(400, 10027, "maximum number of streams reached")


def max_consumers() -> ApiError:
    """JSMaximumConsumersLimitErr."""
    return ApiError(400, 10026, "maximum consumers limit reached")


def memory_exceeded() -> ApiError:
    """JSMemoryResourcesExceededErr: a memory stream does not fit the account's max_memory."""
    return ApiError(500, 10028, "insufficient memory resources available")


def account_resources_exceeded() -> ApiError:
    """JSAccountResourcesExceededErr: a publish that would pass the account's storage limit."""
    return ApiError(400, 10002, "resource limits exceeded for account")


def storage_exceeded() -> ApiError:
    """JSStorageResourcesExceededErr."""
    return ApiError(500, 10047, "insufficient storage resources available")


def expected_stream_mismatch() -> ApiError:
    """JSStreamNotMatchErr (Nats-Expected-Stream)."""
    return ApiError(400, 10060, "expected stream does not match")


def wrong_last_sequence(last: int) -> ApiError:
    """JSStreamWrongLastSequenceErrF."""
    return ApiError(400, 10071, f"wrong last sequence: {last}")


def wrong_last_msg_id(last_id: str) -> ApiError:
    """JSStreamWrongLastMsgIDErrF."""
    return ApiError(400, 10070, f"wrong last msg ID: {last_id}")


def message_too_big() -> ApiError:
    """JSStreamMessageExceedsMaximumErr."""
    return ApiError(400, 10054, "message size exceeds maximum allowed")


def max_messages_exceeded() -> ApiError:
    """JSStreamStoreFailedF for discard new + max_msgs."""
    return ApiError(503, 10077, "maximum messages exceeded")


def max_bytes_exceeded() -> ApiError:
    """JSStreamStoreFailedF for discard new + max_bytes."""
    return ApiError(503, 10077, "maximum bytes exceeded")


def unknown_field(name: str) -> ApiError:
    """JSInvalidJSONErr as nats-server's strict decoder words an unknown field."""
    return ApiError(400, 10025, f'invalid JSON: json: unknown field "{name}"')


def consumer_unsupported(what: str) -> ApiError:
    """JSConsumerCreateErrF for a consumer feature the stub does not implement: refused."""
    return ApiError(500, 10012, f"server_stub does not support consumer {what}")


def stream_unsupported(what: str) -> ApiError:
    """JSStreamInvalidConfigF for a stream feature the stub does not implement: refused."""
    return invalid_config(f"server_stub does not support stream {what}")


def sealed() -> ApiError:
    """JSStreamSealedErr."""
    return ApiError(400, 10109, "invalid operation on sealed stream")


def rollup_failed(description: str) -> ApiError:
    """JSStreamRollupFailedF."""
    return ApiError(500, 10111, description)


def ttl_disabled() -> ApiError:
    """JSMessageTTLDisabledErr."""
    return ApiError(400, 10166, "per-message TTL is disabled")


def ttl_invalid() -> ApiError:
    """JSMessageTTLInvalidErr."""
    return ApiError(400, 10165, "invalid per-message TTL")


def max_per_subject_exceeded() -> ApiError:
    """JSStreamStoreFailedF for discard_new_per_subject."""
    return ApiError(503, 10077, "maximum messages per subject exceeded")


def stream_offline(reason: str) -> ApiError:
    """JSStreamOfflineReasonErrF: a stream whose files could not be recovered."""
    return ApiError(500, 10194, f"stream is offline: {reason}")
