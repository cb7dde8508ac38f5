"""Validators used by rules (`validator:`) and the entropy helper."""

from __future__ import annotations

import base64
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmwall_core.validators import (
    VALIDATORS,
    email,
    iban,
    ipv4,
    ipv6,
    jwt,
    luhn,
    phone,
    shannon_entropy,
    ssn,
)


def _luhn_complete(body: str) -> str:
    """Append the Luhn check digit to `body`."""
    for check in "0123456789":
        candidate = body + check
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _iban_complete(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def test_registry_has_the_documented_names():
    for name in ("luhn", "iban", "ssn", "ipv4", "ipv6", "phone", "email", "jwt"):
        assert callable(VALIDATORS[name])


# -- entropy -----------------------------------------------------------------------------------------


def test_entropy_values():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("ab") == pytest.approx(1.0)
    assert shannon_entropy("abcd1234") == pytest.approx(3.0)
    assert shannon_entropy("0123456789abcdef") == pytest.approx(4.0)


@given(st.text(min_size=1, max_size=200))
def test_entropy_bounds(text):
    value = shannon_entropy(text)
    assert 0.0 <= value <= math.log2(len(text)) + 1e-9


# -- payment cards -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",
        "4012888888881881",
        "4012-8888-8888-1881",
        "4012 8888 8888 1881",
        "378282246310005",  # Amex 15
        "3782 822463 10005",  # Amex as printed
        "30569309025904",  # Diners 14
        "6011000400000000",  # Discover
        "5555555555554444",  # Mastercard
        "2223003122003222",  # Mastercard 2-series
        "3530111333300000",  # JCB
        "6759649826438453",  # Maestro 16
        "4222222222222",  # Visa 13
    ],
)
def test_luhn_accepts_card_numbers(number):
    assert luhn(number)


@pytest.mark.parametrize(
    "number",
    [
        "4012888888881882",  # bad check digit
        "4012-8888-8888-1882",
        "1748503543012",  # Luhn-valid but no card network starts with 1 at this length
        "0000000000000000",
        "4444444444444444",
        "411111111111",  # 12 digits, not Maestro
        "41111111111111111111",  # 20 digits
        "4111-1111-1111-111a",
        "41 1111 1111 1111 11",  # not grouped like a printed card
        "",
    ],
)
def test_luhn_rejects(number):
    assert not luhn(number)


def test_luhn_maestro_twelve_digits():
    assert luhn(_luhn_complete("50386729711"))
    assert not luhn(_luhn_complete("41111111111"))


@given(st.sampled_from(["4", "51", "37", "6011", "35"]), st.integers(min_value=0, max_value=10**12))
def test_luhn_generated_numbers_and_single_digit_errors(prefix, tail):
    body = (prefix + str(tail).zfill(12))[:15]
    number = _luhn_complete(body)
    if len(set(number)) == 1:
        return
    assert luhn(number)
    # changing any one digit breaks the checksum
    for i in range(len(number)):
        wrong = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1:]
        if wrong[0] in "3456" and len(set(wrong)) > 1:
            assert not luhn(wrong)


# -- IBAN ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "gb82 west 1234 5698 7654 32",
        "NL91ABNA0417164300",
        "FR1420041010050500013M02606",
        "NO9386011117947",
        "BE68539007547034",
    ],
)
def test_iban_accepts(value):
    assert iban(value)


@pytest.mark.parametrize(
    "value",
    [
        "DE89370400440532013001",  # checksum
        "DE8937040044053201300",  # length for DE
        "XX89370400440532013000",  # unknown country
        "GB82WEST1234569876543",
        "DE8A370400440532013000",
        "",
    ],
)
def test_iban_rejects(value):
    assert not iban(value)


@given(st.sampled_from(["DE", "GB", "FR", "NL"]), st.integers(min_value=0, max_value=10**30))
def test_iban_generated(country, n):
    lengths = {"DE": 18, "GB": 18, "FR": 23, "NL": 14}
    bban = str(n).zfill(30)[: lengths[country]]
    if country in ("GB", "NL"):
        bban = "ABCD" + bban[4:]
    value = _iban_complete(country, bban)
    assert iban(value)
    # mod-97 catches every single-digit error
    last = value[-1]
    assert not iban(value[:-1] + str((int(last) + 1) % 10))


# -- SSN -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["460-89-9847", "078 05 1123", "078.05.1123", "078051121", "078-051121", "07805-1121"])
def test_ssn_accepts(value):
    assert ssn(value)


@pytest.mark.parametrize(
    "value",
    [
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
        "078-05-1120",  # the Woolworth wallet number
        "219-09-9999",
        "693-09.4444",  # mixed separators
        "12-345-6789a",
        "0780511201",
        "111-11-1111",
    ],
)
def test_ssn_rejects(value):
    assert not ssn(value)


# -- IP addresses --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["192.168.0.1", "0.0.0.0", "255.255.255.255", "10.0.0.0/8", "8.8.8.8"])
def test_ipv4_accepts(value):
    assert ipv4(value)


@pytest.mark.parametrize("value", ["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "10.0.0.0/33", "a.b.c.d", ""])
def test_ipv4_rejects(value):
    assert not ipv4(value)


@pytest.mark.parametrize(
    "value",
    ["2001:db8::1", "::1", "::", "fe80::1%eth0", "[2001:db8::1]", "::ffff:192.168.1.1", "2001:db8::/32",
     "2345:0425:2CA1:0000:0000:0567:5673:23b5"],
)
def test_ipv6_accepts(value):
    assert ipv6(value)


@pytest.mark.parametrize(
    "value",
    ["12:30:45", "1:2:3:4", "aa:bb:cc:dd:ee:ff", "gggg::1", "::ffff:256.0.0.1", "2001:db8::/129",
     "684D:1111:222:3333:4444:5555:77", "80:443"],
)
def test_ipv6_rejects(value):
    assert not ipv6(value)


# -- phone ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["(415) 555-0132", "+44 20 7123 4567", "+1-903-140-4508x769", "0490 75 40 81", "930.167.3943", "781 1704",
     "+639171234567", "+41 (0)69 979 80 58"],
)
def test_phone_accepts(value):
    assert phone(value)


@pytest.mark.parametrize(
    "value",
    ["123456", "1111111", "1234567", "+0 123 456 789", "2023-10-15", "15.10.2023", "3.14159265", "1990-2020",
     "12/10/2023", "+1 2 3", "1234567890123456", "555-CALL-NOW"],
)
def test_phone_rejects(value):
    assert not phone(value)


# -- e-mail --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["info@presidio.site", "jane.doe+news@mail.example.co.uk", "user@xn--80ak6aa92e.com", "a@xn--d1acufc.xn--p1ai"]
)
def test_email_accepts(value):
    assert email(value)


@pytest.mark.parametrize(
    "value", ["icon@2x.png", "user@localhost", "user@host", "a..b@example.com", "user@example.c", "lodash@4.17.js", "@x.com"]
)
def test_email_rejects(value):
    assert not email(value)


# -- JWT -----------------------------------------------------------------------------------------------


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_jwt_accepts_signed_and_unsigned():
    token = _b64({"alg": "HS256", "typ": "JWT"}) + "." + _b64({"sub": "42"}) + ".c2lnbmF0dXJl"
    assert jwt(token)
    assert jwt(_b64({"alg": "none"}) + "." + _b64({"sub": "x"}) + ".")


@pytest.mark.parametrize(
    "value",
    [
        "eyJAAAA.eyJBBB",
        "eyJBB.eyJCC.eyJDDDD",
        _b64({"typ": "JWT"}) + "." + _b64({"sub": "1"}) + ".sig",  # no alg
        _b64(["alg"]) + "." + _b64({"sub": "1"}) + ".sig",
        "eyJhbasdGciOiJIUaddasdasfsasdasdzI1NiIasdsInR5cCI6IkpXVCasdJasd9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
        '{"alg":"HS256"}.{"sub":"1"}.sig',
        "a.b.c.d",
    ],
)
def test_jwt_rejects(value):
    assert not jwt(value)


@given(st.text(max_size=60))
def test_validators_never_raise(text):
    for check in VALIDATORS.values():
        assert check(text) in (True, False)
