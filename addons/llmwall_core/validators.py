"""Checks that a matched value really is what a rule claims (checksums, number plans, structure).

A rule names one of these with `validator:`; the value (its `secret_group`, or the whole match) must pass.
Every validator takes the matched text and returns a bool; none raises. Pure Python, no mitmproxy.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from typing import Callable

__all__ = [
    "VALIDATORS",
    "email",
    "iban",
    "ipv4",
    "ipv6",
    "jwt",
    "luhn",
    "phone",
    "shannon_entropy",
    "ssn",
]


def shannon_entropy(s: str) -> float:
    """Shannon entropy of `s` in bits per character; 0.0 for the empty string."""
    if not s:
        return 0.0
    counts: dict[str, int] = {}
    for ch in s:
        counts[ch] = counts.get(ch, 0) + 1
    total = len(s)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


# -- payment cards ---------------------------------------------------------------------------------

_CARD_SEPARATORS = re.compile(r"[ \-]")
# Maestro (IIN 50, 56-69, and the legacy UK 0604) issues 12-digit cards; everything else is 13-19 digits.
_MAESTRO_PREFIXES = ("50", "56", "57", "58", "6", "0604")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if index % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _plausible_iin(digits: str) -> bool:
    """Whether the issuer prefix belongs to a card network (ISO/IEC 7812 major industry identifiers)."""
    first = digits[0]
    if first in "3456":
        return True  # Amex/Diners/JCB, Visa, Mastercard/Maestro, Discover/UnionPay/Maestro/RuPay
    if first == "2":
        return True  # Mastercard 2221-2720, Mir 2200-2204, JCB legacy 2131
    if digits.startswith("1800") or (first == "1" and len(digits) == 15):
        return True  # JCB legacy 1800, UATP
    if digits.startswith("0604"):
        return True  # Maestro (UK legacy)
    return False


def luhn(value: str) -> bool:
    """A payment card number: digits (spaces/dashes allowed), 13-19 long (12 for Maestro), a known
    issuer prefix, a valid Luhn check digit, and not one repeated digit."""
    digits = _CARD_SEPARATORS.sub("", value.strip())
    if not digits.isascii() or not digits.isdigit():
        return False
    n = len(digits)
    if n == 12:
        if not digits.startswith(_MAESTRO_PREFIXES):
            return False
    elif not 13 <= n <= 19:
        return False
    if len(set(digits)) == 1:
        return False  # 0000 0000 0000 0000, 4444 4444 ... (placeholders)
    if not _plausible_iin(digits):
        return False
    # Separators must group the number the way cards are printed: 4-4-4-4(-3), 4-6-5 (Amex), 4-6-4 (Diners).
    groups = [g for g in _CARD_SEPARATORS.split(value.strip()) if g]
    if len(groups) > 1:
        sizes = [len(g) for g in groups]
        if sizes[0] != 4 or any(s < 3 or s > 6 for s in sizes):
            return False
    return _luhn_ok(digits)


# -- IBAN ------------------------------------------------------------------------------------------

# Country code -> total IBAN length (SWIFT IBAN registry, plus the common experimental ones).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    # partial participants / national formats in wide use
    "AO": 25, "BF": 28, "BJ": 28, "CI": 28, "CM": 27, "CV": 25, "DZ": 26, "GA": 27, "IR": 26, "MA": 28,
    "MG": 27, "ML": 28, "MZ": 25, "NE": 28, "SN": 28, "TG": 28,
}


def iban(value: str) -> bool:
    """An IBAN: a known country code, that country's length, and the ISO 7064 mod-97 check."""
    compact = re.sub(r"[ \-]", "", value.strip()).upper()
    if len(compact) < 15 or not compact.isascii() or not compact.isalnum():
        return False
    country, check = compact[:2], compact[2:4]
    if not country.isalpha() or not check.isdigit():
        return False
    if IBAN_LENGTHS.get(country) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


# -- US social security numbers ----------------------------------------------------------------------

# Numbers the SSA lists as never valid, or that were published and are used as examples.
_SSN_BLOCKLIST = frozenset({"078051120", "219099999", "123456789", "111111111", "333333333"})


def ssn(value: str) -> bool:
    """A US SSN: 9 digits, area not 000/666/9xx, group not 00, serial not 0000, one kind of separator."""
    text = value.strip()
    separators = {ch for ch in text if not ch.isdigit()}
    if len(separators) > 1 or separators - {"-", " ", "."}:
        return False
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) != 9 or not digits.isascii():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9":
        return False
    if group == "00" or serial == "0000":
        return False
    if len(set(digits)) == 1 or digits in _SSN_BLOCKLIST:
        return False
    return True


# -- IP addresses ------------------------------------------------------------------------------------

_IPV4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2}))?")


def ipv4(value: str) -> bool:
    """A dotted-quad IPv4 address (optional /prefix): four octets 0-255 without leading zeros.
    Versions (1.2.3), five-part strings and octets like 01 are rejected."""
    m = _IPV4.fullmatch(value.strip())
    if m is None:
        return False
    octets = m.groups()[:4]
    for octet in octets:
        if len(octet) > 1 and octet[0] == "0":
            return False
        if int(octet) > 255:
            return False
    prefix = m.group(5)
    if prefix is not None and int(prefix) > 32:
        return False
    return True


def ipv6(value: str) -> bool:
    """An IPv6 address per the `ipaddress` module: brackets, a zone (%eth0) and a /prefix are allowed;
    at least two colons and not a bare run of digits and colons that reads as a time or ratio."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    prefix = None
    if "/" in text:
        text, _, prefix = text.partition("/")
        if not prefix.isdigit() or int(prefix) > 128:
            return False
    text = text.split("%", 1)[0]
    if text.count(":") < 2:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


# -- phone numbers -----------------------------------------------------------------------------------

_PHONE_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?|extension|#)\s*\d{1,6}$")


def phone(value: str) -> bool:
    """A plausible phone number: 7-15 digits (E.164 maximum; an extension is not counted), not one
    repeated digit, not a plain ascending run, country code not starting with 0, no date shape."""
    text = _PHONE_EXTENSION.sub("", value.strip())
    if any(ch.isalpha() for ch in text):
        return False
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits.isascii() or not 7 <= len(digits) <= 15:
        return False
    if len(set(digits)) == 1:
        return False
    if digits in "01234567890123456789" or digits in "98765432109876543210":
        return False
    if text.startswith("+") and (len(digits) < 8 or digits[0] == "0"):
        return False
    # 2023-01-15 / 15.01.2023 / 01/02/2023 are dates, not numbers to call.
    if re.fullmatch(r"(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])", text):
        return False
    if re.fullmatch(r"(?:0?[1-9]|[12]\d|3[01])[-./](?:0?[1-9]|1[0-2])[-./](?:19|20)\d\d", text):
        return False
    if "/" in text:
        return False
    if text.count(".") == 1:
        return False  # 3.14159265, 1234.5678: a decimal, not a number to call
    groups = re.findall(r"\d+", text)
    if len(groups) == 2 and all(re.fullmatch(r"(?:19|20)\d\d", g) for g in groups):
        return False  # 1990-2020: a range of years
    return True


# -- e-mail ------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"([^@\s]{1,64})@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)")
# File extensions that follow "@" in asset names (icon@2x.png) and package pins (lodash@4.17.js).
_NOT_TLDS = frozenset(
    "png jpg jpeg gif svg webp bmp ico tif tiff pdf js mjs cjs ts tsx jsx css scss less map json yaml yml "
    "xml html htm txt csv log lock toml ini cfg conf exe dll so dylib zip gz tgz tar rar whl jar war mp3 "
    "mp4 wav avi mov mkv woff woff2 ttf otf eot py rb go rs java kt swift php pl lua sh bat ps1 md rst "
    "local localhost internal invalid test lan home corp".split()
)


def email(value: str) -> bool:
    """An e-mail address whose domain has a dot and a plausible top-level domain (letters, 2-24, or an
    IDN xn-- label; not a file extension)."""
    m = _EMAIL.fullmatch(value.strip())
    if m is None:
        return False
    local, domain = m.groups()
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    tld = domain.rsplit(".", 1)[1].lower()
    if tld.startswith("xn--"):
        return len(tld) >= 5
    if not tld.isalpha() or not 2 <= len(tld) <= 24:
        return False
    return tld not in _NOT_TLDS


# -- JSON web tokens ---------------------------------------------------------------------------------

_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def _b64url_decode(part: str) -> bytes | None:
    if not _B64URL.fullmatch(part):
        return None
    padded = part.rstrip("=")
    padded += "=" * (-len(padded) % 4)
    try:
        return base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError):
        return None


def jwt(value: str) -> bool:
    """A JWT (JWS compact form): three base64url parts (the signature may be empty for alg=none) whose
    header decodes to a JSON object with "alg" and whose payload decodes too."""
    parts = value.strip().split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return False
    header = _b64url_decode(parts[0])
    if header is None:
        return False
    try:
        decoded = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(decoded, dict) or "alg" not in decoded:
        return False
    if _b64url_decode(parts[1]) is None:
        return False
    return not parts[2] or _B64URL.fullmatch(parts[2]) is not None


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn,
    "iban": iban,
    "ssn": ssn,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "phone": phone,
    "email": email,
    "jwt": jwt,
}
