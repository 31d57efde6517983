"""The client side of ExportReport, for `sales-grpc export`: writes the stream to FILE.part,
resumes with the last chunk's token after a dropped connection, checks the SHA-256 of the
whole file against the trailer's, and only then renames FILE.part to FILE."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import grpc

from erp.sales.v1 import report_service_pb2 as pb
from erp.sales.v1 import report_service_pb2_grpc as pb_grpc

FORMATS = {"csv": pb.EXPORT_FORMAT_CSV, "jsonl": pb.EXPORT_FORMAT_JSONL,
           "xlsx": pb.EXPORT_FORMAT_XLSX, "pdf": pb.EXPORT_FORMAT_PDF}
# A dropped connection, a restarting server: worth resuming. Anything else is the answer.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})


class ExportFailed(Exception):
    """The call failed for good (its status and message), or the file is not what the server
    says it sent."""


class Progress(Protocol):
    def started(self, header: pb.ExportHeader) -> None: ...
    def advanced(self, chunk: pb.ExportChunk) -> None: ...
    def resuming(self, attempt: int, error: grpc.aio.AioRpcError) -> None: ...


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int
    size_bytes: int
    sha256: str
    resumes: int


@dataclass
class _File:
    """FILE.part as written so far, with the hash of its bytes and the last chunk's token."""

    handle: BinaryIO
    digest: hashlib._Hash
    written: int = 0
    token: str = ""


ChannelFactory = Callable[[], grpc.aio.Channel]


async def export_to_file(channels: ChannelFactory, token: str, request: pb.ExportReportRequest,
                         target: Path, progress: Progress, *, attempts: int = 10,
                         backoff: float = 0.5, deadline: float | None = None
                         ) -> Exported:
    partial = target.with_name(target.name + ".part")
    metadata = (("authorization", f"Bearer {token}"),)
    resumes = 0
    try:
        with partial.open("wb") as handle:
            file = _File(handle, hashlib.sha256())
            for attempt in range(1, attempts + 1):
                async with channels() as channel:
                    stub = pb_grpc.ReportServiceStub(channel)
                    request.resume_token = file.token
                    try:
                        trailer = await _receive(stub.ExportReport(
                            request, metadata=metadata, timeout=deadline), file, progress)
                    except grpc.aio.AioRpcError as error:
                        if error.code() not in RETRYABLE or attempt == attempts:
                            raise ExportFailed(f"{error.code().name}: {error.details()}"
                                               ) from None
                        progress.resuming(attempt, error)
                        resumes += 1
                        await asyncio.sleep(backoff * attempt)
                        continue
                _check(file, trailer)
                break
        partial.replace(target)  # whole and checked, or not at all
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    return Exported(target, trailer.row_count, trailer.size_bytes, trailer.sha256, resumes)


async def _receive(call: grpc.aio.UnaryStreamCall[pb.ExportReportRequest,
                                                  pb.ExportReportResponse],
                   file: _File, progress: Progress) -> pb.ExportTrailer:
    async for message in call:
        kind = message.WhichOneof("kind")
        if kind == "header":
            if message.header.start_offset != file.written:
                raise ExportFailed(f"the server resumed at byte {message.header.start_offset}, "
                                   f"not at the {file.written} bytes received")
            progress.started(message.header)
        elif kind == "chunk":
            chunk = message.chunk
            file.handle.write(chunk.data)
            file.digest.update(chunk.data)
            file.written += len(chunk.data)
            file.token = chunk.resume_token
            progress.advanced(chunk)
        elif kind == "trailer":
            return message.trailer
    raise ExportFailed("the stream ended without a trailer")


def _check(file: _File, trailer: pb.ExportTrailer) -> None:
    if trailer.size_bytes != file.written or trailer.sha256 != file.digest.hexdigest():
        raise ExportFailed(
            f"the file received ({file.written} bytes, SHA-256 {file.digest.hexdigest()}) is "
            f"not the one the server sent ({trailer.size_bytes} bytes, SHA-256 "
            f"{trailer.sha256})")
