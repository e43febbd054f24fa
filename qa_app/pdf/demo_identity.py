"""The demo signing identity, made once under ``instance/signing/`` when no PKCS#12 is configured: a demo CA,
a unit certificate, an in-process time-stamping authority and a CRL, every key at rest under a passphrase.
Minutes signed with it say on page 1 that the certificate is a test one. Pure module (no Flask, no database);
re-exported by ``pdf.signing``."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# pyHanko still imports cryptography's DSA classes, which cryptography 51 deprecates with a warning at import.
# No DSA key is ever made or accepted here (ECDSA and RSA only); the warning would only be noise in the server's
# log (and an error under the test suite's warnings-as-errors).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    from pyhanko.sign import timestamps
    from pyhanko.sign.general import as_signing_certificate, get_pyca_cryptography_hash, simple_cms_attribute

from .pki import SigningError, _as_asn1

# Lifetimes of the demo identity. The unit certificate lives as long as a real Vietnamese one (1–3 years);
# the TSA certificate outlives it, and the CA and its CRL outlive both, which is what lets a minutes signed
# today still verify after the unit certificate expired.
DEMO_UNIT_DAYS, DEMO_TSA_DAYS, DEMO_CA_DAYS = 3 * 365, 10 * 365, 20 * 365


class DemoTimeStamper(timestamps.DummyTimeStamper):
    """pyHanko's in-process TSA, signing with an EC key (its own class signs with RSA only).

    An RFC 3161 response like any TSA's, made in the signing process: no network service for the demo.
    """

    def __init__(self, tsa_cert: asn1_x509.Certificate, key: ec.EllipticCurvePrivateKey,
                 certs_to_embed: list[asn1_x509.Certificate]) -> None:
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        super().__init__(tsa_cert=tsa_cert, tsa_key=asn1_keys.PrivateKeyInfo.load(der), certs_to_embed=certs_to_embed)
        self._ec_key = key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: Any) -> tuple[bytes, Any]:
        # The same signed attributes as the parent's, signed with ECDSA instead of RSA PKCS#1 v1.5.
        md = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        md.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", md.finalize()),
        ])
        signature = self._ec_key.sign(signed_attrs.dump(),
                                      ec.ECDSA(get_pyca_cryptography_hash(md_algorithm.upper())))
        return signature, signed_attrs

    def _build_signed_data(self, tst_info_data: bytes, md_algorithm: str, signature: bytes,
                           signed_attrs: Any) -> dict:
        data = super()._build_signed_data(tst_info_data, md_algorithm, signature, signed_attrs)
        data["signer_infos"][0]["signature_algorithm"] = algos.SignedDigestAlgorithm(
            {"algorithm": f"{md_algorithm.lower()}_ecdsa"})
        return data


def _demo_timestamper(directory: Path, passphrase: bytes | None) -> DemoTimeStamper:
    """The demo TSA, signing with the certificate the demo CA issued to it."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates((directory / "tsa.p12").read_bytes(), passphrase)
    except (OSError, ValueError) as exc:
        raise SigningError(f"the demo time-stamping key {directory / 'tsa.p12'} cannot be loaded: {exc}") from None
    return DemoTimeStamper(_as_asn1(cert), key, [_as_asn1(c) for c in extra or ()])


PASSPHRASE_FILE = "passphrase"
_checked_plain: set[str] = set()


def demo_passphrase(directory: Path) -> str:
    """The generated passphrase of the demo PKCS#12 (kept beside it, mode 0600: for the demo only).

    In production set ``QA_SIGNING_PKCS12_PASSWORD`` (it then encrypts the demo key too, and nothing is written).
    """
    path = directory / PASSPHRASE_FILE
    if not path.exists() and _is_plain(directory / "unit.p12"):
        # A demo key made before keys were encrypted (or restored from such a backup): give it a passphrase now.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(24))
        except FileExistsError:
            pass  # another worker did it first
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise SigningError(f"the demo signing key's passphrase {directory / PASSPHRASE_FILE} cannot be read "
                           f"({exc}); set QA_SIGNING_PKCS12_PASSWORD") from None


def _is_plain(path: Path) -> bool:
    try:
        pkcs12.load_key_and_certificates(path.read_bytes(), None)
    except (OSError, ValueError):
        return False
    return True


def _encrypt_if_plain(path: Path, passphrase: str | bytes) -> None:
    """Re-write a demo PKCS#12 made before keys were encrypted, under the passphrase (atomic, mode 0600)."""
    raw = path.read_bytes()
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(raw, None)
    except ValueError:
        return  # encrypted already (or damaged: loading reports it with its reason)
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    data = pkcs12.serialize_key_and_certificates(path.stem.encode(), key, cert, extra,  # type: ignore[arg-type]
                                                 serialization.BestAvailableEncryption(secret))
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def ensure_demo_identity(directory: Path, unit_name: str = "", unit_code: str = "",
                         passphrase: str | bytes | None = None) -> Path:
    """Create (once) the demo signing identity in ``directory``; returns the unit's PKCS#12 path.

    Creates a demo CA, its CRL, a unit and a TSA certificate (EC P-256). Both PKCS#12 files are encrypted with
    ``passphrase`` (QA_SIGNING_PKCS12_PASSWORD), or with one generated into ``directory/passphrase``; the folder
    is 0700 and every file in it 0600. An identity made before the TSA existed (no ``tsa.p12``) is replaced,
    keeping its CA as ``legacy-ca.pem`` so that the minutes it signed still verify.
    """
    p12 = directory / "unit.p12"
    if p12.exists() and (directory / "tsa.p12").exists():
        return p12
    directory.parent.mkdir(parents=True, exist_ok=True)
    # Built in a temporary folder (mkdtemp: 0700) and renamed into place: two workers starting together both
    # end up using whichever identity landed first, never half of each.
    tmp = Path(tempfile.mkdtemp(prefix=".signing-", dir=directory.parent))
    old: Path | None = None
    try:
        if passphrase is None:
            passphrase = secrets.token_urlsafe(24)
            fd = os.open(tmp / PASSPHRASE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(passphrase)
        _write_demo_identity(tmp, unit_name or "DEMO UNIT", unit_code or "DEMO",
                             passphrase.encode() if isinstance(passphrase, str) else passphrase)
        if p12.exists():
            legacy = os.open(tmp / "legacy-ca.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(legacy, "wb") as fh:
                fh.write((directory / "ca.pem").read_bytes())
            old = Path(tempfile.mkdtemp(prefix=".signing-old-", dir=directory.parent))
            os.rename(directory, old / "x")
        try:
            os.rename(tmp, directory)
        except OSError:
            if not p12.exists():
                raise
    finally:
        for leftover in (tmp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    return p12


def _key_usage(**on: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


def _write_demo_identity(target: Path, unit_name: str, unit_code: str, passphrase: bytes) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qa-app DEMO"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "qa-app DEMO CA (không có giá trị pháp lý)")])
    ca_until = now + dt.timedelta(days=DEMO_CA_DAYS)
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(ca_until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(subject: x509.Name, days: int, usage: x509.KeyUsage,
              eku: x509.ExtendedKeyUsage | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if eku is not None:
            builder = builder.add_extension(eku, critical=True)
        return key, builder.sign(ca_key, hashes.SHA256())

    unit_key, unit_cert = issue(
        x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                   x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_name),
                   x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit_code),
                   x509.NameAttribute(NameOID.COMMON_NAME, f"{unit_name} (DEMO)")]),
        DEMO_UNIT_DAYS, _key_usage(digital_signature=True, content_commitment=True))
    tsa_key, tsa_cert = issue(
        x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                   x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qa-app DEMO"),
                   x509.NameAttribute(NameOID.COMMON_NAME, "qa-app DEMO TSA (không có giá trị pháp lý)")]),
        DEMO_TSA_DAYS, _key_usage(digital_signature=True, content_commitment=True),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]))
    # The CA's one published CRL: nothing revoked, valid as long as the CA, so that validation at any past
    # time proven by a timestamp finds revocation data that covers it.
    crl = (
        x509.CertificateRevocationListBuilder().issuer_name(ca_name).last_update(now).next_update(ca_until)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    def private(name: str, data: bytes) -> None:
        fd = os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    private("ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
    private("ca.crl", crl.public_bytes(serialization.Encoding.DER))
    private("unit.pem", unit_cert.public_bytes(serialization.Encoding.PEM))
    private("tsa.pem", tsa_cert.public_bytes(serialization.Encoding.PEM))
    for name, key, cert in (("unit.p12", unit_key, unit_cert), ("tsa.p12", tsa_key, tsa_cert)):
        # Both keys at rest under the passphrase: the TSA's key is as much a signing key as the unit's.
        private(name, pkcs12.serialize_key_and_certificates(name.encode(), key, cert, [ca_cert],
                                                            serialization.BestAvailableEncryption(passphrase)))
    # The CA key is thrown away: the demo CA issues exactly these certificates and this CRL.
