import gzip
import zlib

import brotli
import pytest
import zstandard

from llmwall_core.decoding import TooLarge, decode_limited

BODY = b'{"messages": [{"role": "user", "content": "hello"}]}'
BOMB = b"\0" * (50 * 1024 * 1024)

ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


@pytest.mark.parametrize("encoding", list(ENCODERS))
def test_round_trip_and_bomb_guard(encoding):
    encode = ENCODERS[encoding]
    assert decode_limited(encode(BODY), encoding, 1024) == BODY
    bomb = encode(BOMB)
    assert len(bomb) < 200_000
    with pytest.raises(TooLarge):
        decode_limited(bomb, encoding, 1024 * 1024)


def test_identity_limit_and_errors():
    assert decode_limited(BODY, "", 1024) == BODY
    with pytest.raises(TooLarge):
        decode_limited(BODY, "identity", 10)
    with pytest.raises(ValueError):
        decode_limited(b"not gzip", "gzip", 1024)
    with pytest.raises(ValueError):
        decode_limited(BODY, "compress", 1024)
