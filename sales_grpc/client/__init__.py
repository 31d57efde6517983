"""A typed async client of the sales service for other services, with nothing of the server
in it: it needs only grpcio, protobuf and googleapis-common-protos (`pip install sales-grpc`;
the server is `pip install 'sales-grpc[server]'`).

    from erp.sales.v1 import customer_service_pb2 as customers
    from sales_grpc.client import InvalidArgument, SalesClient

    async with SalesClient("sales.internal:50051", token=auth.token) as sales:
        try:
            reply = await sales.customers.CreateCustomer(customers.CreateCustomerRequest(...))
        except InvalidArgument as error:
            for violation in error.field_violations:
                print(violation.field, violation.description)
"""

from ._client import (
    DEFAULT_DEADLINE,
    DEFAULT_STREAM_DEADLINE,
    SalesClient,
    TokenProvider,
)
from .errors import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PreconditionViolation,
    ResourceExhausted,
    ResourceInfo,
    SalesError,
    Unauthenticated,
    Unavailable,
    from_rpc_error,
)

__all__ = [
    "DEFAULT_DEADLINE", "DEFAULT_STREAM_DEADLINE", "Aborted", "AlreadyExists",
    "DeadlineExceeded", "FailedPrecondition", "FieldViolation", "Internal", "InvalidArgument",
    "NotFound", "PermissionDenied", "PreconditionViolation", "ResourceExhausted", "ResourceInfo",
    "SalesClient", "SalesError", "TokenProvider", "Unauthenticated", "Unavailable",
    "from_rpc_error",
]
