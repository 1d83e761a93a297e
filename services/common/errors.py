"""Domain errors and how they travel over gRPC.

A service raises :class:`DomainError`; the server interceptor turns it into a gRPC status
with ``google.rpc`` details (``ErrorInfo.reason`` = our code, ``BadRequest.FieldViolation``
for the field). The gateway reads them back with :func:`from_rpc_error` and answers a
GraphQL ``UserError`` with the same code and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

DOMAIN = "salon"
STATUS_DETAILS_KEY = "grpc-status-details-bin"


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    SLOT_TAKEN = "SLOT_TAKEN"
    OUTSIDE_OPENING_HOURS = "OUTSIDE_OPENING_HOURS"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    WRONG_ESTABLISHMENT = "WRONG_ESTABLISHMENT"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    PAYMENT_MISMATCH = "PAYMENT_MISMATCH"
    # A prepaid subscription past its date (R24) / without visits left.
    EXPIRED = "EXPIRED"
    USED_UP = "USED_UP"
    # A stock reservation already released (a late retry of a failed checkout's step).
    RESERVATION_RELEASED = "RESERVATION_RELEASED"
    # The service lacks a setting the operation needs (e.g. SALON_PAYMENTS_KEY).
    NOT_CONFIGURED = "NOT_CONFIGURED"
    # Too many failed attempts (logins): wait and try again.
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"


_GRPC_CODE = {
    ErrorCode.INVALID: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCode.CONFLICT: grpc.StatusCode.ABORTED,
}


@dataclass
class DomainError(Exception):
    """An expected failure: bad input, unknown id, missing right, a conflict..."""

    code: ErrorCode
    message: str
    field: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def grpc_code(self) -> grpc.StatusCode:
        return _GRPC_CODE.get(self.code, grpc.StatusCode.FAILED_PRECONDITION)

    def to_status_details(self) -> bytes:
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=self.code.value, domain=DOMAIN))
        details = [info]
        if self.field:
            bad = any_pb2.Any()
            bad.Pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=self.field, description=self.message
                        )
                    ]
                )
            )
            details.append(bad)
        status = status_pb2.Status(
            code=self.grpc_code.value[0], message=self.message, details=details
        )
        return status.SerializeToString()


def invalid(field: str, message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID, message, field)


def not_found(what: str, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found", field)


def from_rpc_error(error: grpc.aio.AioRpcError | grpc.RpcError) -> DomainError | None:
    """The DomainError a service raised, or None when the failure was not one of ours."""
    metadata = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in metadata or ():
        if key != STATUS_DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        code: ErrorCode | None = None
        field: str | None = None
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                if info.domain == DOMAIN and info.reason in ErrorCode.__members__:
                    code = ErrorCode(info.reason)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                if bad.field_violations:
                    field = bad.field_violations[0].field
        if code is not None:
            return DomainError(code, status.message, field)
    return None
