"""What the signing and the demo identity share: the error they raise and a certificate in the form pyHanko
reads. Pure module (no Flask, no database)."""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization


class SigningError(Exception):
    """The signing key, the time-stamping authority or the revocation data could not be used."""


def _as_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
