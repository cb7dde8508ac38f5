"""Run the fake provider standalone for a demo:

    python -m tests.fakeprovider --port 8443 [--plain-port 8080] [--certdir /tmp/fakeprovider]

then, in another shell:

    mitmdump -s addons/llmwall.py -s tests/e2e/route_to_fake.py \\
        --set route_fake_port=8443 --set route_fake_plain_port=8080 \\
        --set ssl_verify_upstream_trusted_ca=/tmp/fakeprovider/ca.pem

and point a client at the proxy (HTTPS_PROXY=http://127.0.0.1:8080, SSL_CERT_FILE=~/.mitmproxy/mitmproxy-ca-cert.pem).
Every request is printed; the reply is the default one ("Hello from the fake provider." + placeholder echo).
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import threading
import time
from pathlib import Path

from .server import FakeProvider


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.fakeprovider", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="HTTPS port (0: any free port)")
    ap.add_argument("--plain-port", type=int, default=0, help="plain HTTP port, e.g. for Ollama (0: any)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--certdir", default=None, help="where the test CA and server cert are written")
    args = ap.parse_args()
    certdir = Path(args.certdir or tempfile.mkdtemp(prefix="fakeprovider-"))
    fake = FakeProvider(certdir, host=args.host, tls_port=args.port, plain_port=args.plain_port).start()
    print(f"fake provider: https://{args.host}:{fake.tls_port}  http://{args.host}:{fake.plain_port}")
    print(f"test CA: {fake.ca_path}")
    print(
        "mitmdump -s addons/llmwall.py -s tests/e2e/route_to_fake.py "
        f"--set route_fake_port={fake.tls_port} --set route_fake_plain_port={fake.plain_port} "
        f"--set ssl_verify_upstream_trusted_ca={fake.ca_path}",
        flush=True,
    )
    seen = 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.wait(0.2):
            reqs = fake.requests
            for r in reqs[seen:]:
                print(f"{time.strftime('%H:%M:%S')} {r.method} {r.host}{r.path} ({r.endpoint}, "
                      f"{len(r.body)} bytes, sni={r.sni})", flush=True)
            seen = len(reqs)
            for f in fake.take_failures():
                print(f"FAILURE: {f}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
