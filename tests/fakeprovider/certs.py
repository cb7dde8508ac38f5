"""A throwaway test CA and one server certificate valid for every provider host the fake serves.

    paths = make_certs(tmpdir)        # CertPaths(ca_cert, ca_key, cert, key)

mitmproxy trusts the CA through `--set ssl_verify_upstream_trusted_ca=<paths.ca_cert>`; the fake provider
serves `paths.cert` / `paths.key`. EC P-256 keys keep generation fast. The extensions (basicConstraints,
keyUsage, extendedKeyUsage, SKI/AKI) satisfy OpenSSL 3 and Python 3.13's VERIFY_X509_STRICT.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# DNS names in the server certificate. Keep in step with llmwall_core/providers/routes.py KNOWN_HOSTS
# and with route_to_fake.py's default route list.
PROVIDER_HOSTS: tuple[str, ...] = (
    "api.openai.com",
    "*.openai.azure.com",
    "*.services.ai.azure.com",
    "*.cognitiveservices.azure.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "aiplatform.googleapis.com",
    "*-aiplatform.googleapis.com",
    "api.groq.com",
    "api.mistral.ai",
    "api.deepseek.com",
    "openrouter.ai",
    "api.together.xyz",
    "api.together.ai",
    "api.fireworks.ai",
    "api.x.ai",
    "router.huggingface.co",
    # non-LLM test hosts ("traffic that is not LLM traffic is untouched")
    "example.com",
    "www.example.com",
    "example.org",
    "*.example.test",
    "localhost",
)
IP_SANS: tuple[str, ...] = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class CertPaths:
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_certs(directory: str | Path, hosts: tuple[str, ...] = PROVIDER_HOSTS) -> CertPaths:
    """Write ca.pem, ca-key.pem, server.pem (leaf only) and server-key.pem into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "llmwall tests"),
        x509.NameAttribute(NameOID.COMMON_NAME, "llmwall fake provider test CA"),
    ])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in IP_SANS]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = CertPaths(
        ca_cert=directory / "ca.pem",
        ca_key=directory / "ca-key.pem",
        cert=directory / "server.pem",
        key=directory / "server-key.pem",
    )
    paths.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.ca_key.write_bytes(_key_pem(ca_key))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(_key_pem(key))
    return paths
