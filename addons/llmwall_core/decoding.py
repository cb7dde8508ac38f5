"""Decoding compressed bodies with a hard output limit (a 10 KB gzip bomb must not become 10 GB)."""

from __future__ import annotations

import zlib


class TooLarge(ValueError):
    """The decoded body would exceed the limit."""


def decode_limited(data: bytes, encoding: str, limit: int) -> bytes:
    """`data` decoded per Content-Encoding (identity, gzip, deflate, br, zstd), never more than `limit`
    bytes of output. Raises TooLarge past the limit, ValueError for a bad or unknown encoding."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        out = data
    elif encoding in ("gzip", "x-gzip", "deflate"):
        out = _zlib(data, limit, 47 if encoding != "deflate" else 15)
    elif encoding == "br":
        out = _brotli(data, limit)
    elif encoding == "zstd":
        out = _zstd(data, limit)
    else:
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    if len(out) > limit:
        raise TooLarge(f"decoded body is larger than {limit} bytes")
    return out


def _zlib(data: bytes, limit: int, wbits: int) -> bytes:
    try:
        inflater = zlib.decompressobj(wbits=wbits)
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        if wbits != 15:
            raise ValueError("body is not valid gzip") from None
        try:  # "deflate" is raw deflate for some clients
            inflater = zlib.decompressobj(wbits=-15)
            out = inflater.decompress(data, limit + 1)
        except zlib.error:
            raise ValueError("body is not valid deflate") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"decoded body is larger than {limit} bytes")
    return out


def _brotli(data: bytes, limit: int) -> bytes:
    import brotli

    decoder = brotli.Decompressor()
    try:
        out = decoder.process(data, output_buffer_limit=limit + 1)
    except brotli.error:
        raise ValueError("body is not valid brotli") from None
    if len(out) > limit or not decoder.can_accept_more_data():
        raise TooLarge(f"decoded body is larger than {limit} bytes")
    return out


def _zstd(data: bytes, limit: int) -> bytes:
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(data)
    try:
        out = reader.read(limit + 1)
    except zstandard.ZstdError:
        raise ValueError("body is not valid zstd") from None
    if len(out) > limit:
        raise TooLarge(f"decoded body is larger than {limit} bytes")
    return out
