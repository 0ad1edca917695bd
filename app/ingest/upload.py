"""Take in an uploaded spend file: stream it to disk, hash it, and refuse a bad file before anything is queued.

The upload is copied in 1 MiB blocks (never held whole), its sha256 computed on the
way, and every byte checked to be UTF-8 text without NUL bytes; then the header is
read. A bad file raises SpendFileError and leaves nothing behind.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# The file-level messages are the parser's own, so an upload and an import say the same thing.
from app.ingest.csv_spend import (
    FORMAT,
    SpendFileError,
    binary_file_message,
    not_utf8_message,
    open_text,
    parse_header,
    utf16_message,
)

BLOCK = 1 << 20


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    sha256: str
    size_bytes: int


def store_upload(stream: BinaryIO, folder: Path, *, header: bool = True) -> StoredUpload:
    """Copy ``stream`` to ``folder``/<uuid>.csv and check it; raises SpendFileError (nothing kept) for a bad file.

    Checked here, before any job exists: empty, binary (a NUL byte), not UTF-8 (anywhere
    in the file, with the line), and (unless ``header`` is False: the caller recognises the
    file's report format itself) a header that is not the spend format.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    partial = path.with_suffix(".part")
    try:
        digest, size = _copy_checked(stream, partial)
        if header:
            check_header(partial)
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return StoredUpload(path, digest, size)


def _copy_checked(stream: BinaryIO, target: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    size = 0
    line = 1  # the line the next block starts on
    text_seen = False
    with open(target, "wb") as out:
        while block := stream.read(BLOCK):
            digest.update(block)
            size += len(block)
            if b"\x00" in block:
                utf16 = utf16_message(block) if size == len(block) else None
                raise SpendFileError(utf16 or binary_file_message(line + block[: block.index(b"\x00")].count(b"\n")))
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                # exc.object is this block (after a stripped BOM) plus at most 3 bytes of a character
                # begun in the previous one, which hold no newline.
                raise SpendFileError(not_utf8_message(exc, line)) from None
            text_seen = text_seen or bool(block.strip())
            line += block.count(b"\n")
            out.write(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise SpendFileError(not_utf8_message(exc, line)) from None
    if not text_seen:
        raise SpendFileError("The file is empty: expected a header line " + FORMAT + ".")
    return digest.hexdigest(), size


def check_header(path: Path) -> None:
    """Read the first non-blank record of a stored file as the spend header; raises SpendFileError."""
    with open(path, "rb") as handle:
        text = open_text(handle)
        try:
            reader = csv.reader(text, strict=True)
            start = 1
            for fields in reader:
                line, start = start, reader.line_num + 1
                if any(f.strip() for f in fields):
                    parse_header(fields, line)
                    return
        except csv.Error as exc:
            raise SpendFileError(f"Line {start} cannot be read as CSV: {exc}.") from None
        finally:
            text.detach()
    raise SpendFileError("The file is empty: expected a header line " + FORMAT + ".")
