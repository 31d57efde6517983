"""A rendered document as the stream every Render*Pdf RPC sends: a header, then chunks."""

from __future__ import annotations

from collections.abc import Iterator

from erp.sales.v1 import document_file_pb2 as pb

from ..services.document_files import DocumentFile

# Well under gRPC's 4 MiB message limit, and small enough that a client sees progress.
CHUNK_BYTES = 64 * 1024


def file_chunks(file: DocumentFile) -> Iterator[pb.DocumentFileChunk]:
    yield pb.DocumentFileChunk(header=pb.DocumentFileHeader(
        content_type=file.content_type, file_name=file.file_name, size_bytes=len(file.data)))
    view = memoryview(file.data)
    for start in range(0, len(view), CHUNK_BYTES):
        yield pb.DocumentFileChunk(data=bytes(view[start:start + CHUNK_BYTES]))
