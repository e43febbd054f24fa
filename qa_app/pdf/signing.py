"""PAdES signatures of the minutes with pyHanko, kept apart from the layout; and their validation.

Pure module (no Flask, no database): callers pass the paths. A configured PKCS#12 file signs for real; without
one, a demo CA and a unit certificate are generated once under ``instance/signing/`` and the minutes say, on
page 1, that the certificate is a test one with no legal value.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import io
import os
import secrets
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

# pyHanko still imports cryptography's DSA classes, which cryptography 51 deprecates with a warning at import.
# No DSA key is ever made or accepted here (ECDSA and RSA only); the warning would only be noise in the server's
# log (and an error under the test suite's warnings-as-errors).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

T = TypeVar("T")

DEMO_NOTICE_VI = "Ký bằng chứng thư số THỬ NGHIỆM (demo) — không có giá trị pháp lý"
DEMO_NOTICE_EN = "Signed with a TEST (demo) digital certificate — no legal value"
DEMO_DIR_NAME = "signing"
FIELD_NAME = "UnitSignature"


class SigningError(Exception):
    """The signing key could not be loaded or used."""


@dataclass(frozen=True)
class SigningKey:
    """A loaded signer with what validation needs: the trust roots and whether it is the demo key."""

    signer: signers.SimpleSigner
    subject: str
    trust_roots: tuple[asn1_x509.Certificate, ...]
    demo: bool


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of validating the embedded signature of a PDF."""

    valid: bool
    reason: str = ""
    signer: str = ""
    signed_at: dt.datetime | None = None


_lock = threading.Lock()
_cache: dict[tuple, SigningKey] = {}


def _subject_of(cert: asn1_x509.Certificate) -> str:
    return cert.subject.human_friendly


def load_signing_key(pkcs12_path: str | None, password: str | bytes | None, instance_path: str,
                     ca_path: str | None = None, unit_name: str = "", unit_code: str = "") -> SigningKey:
    """The configured signer, or the demo one (generated on first use); cached per file and mtime."""
    if pkcs12_path:
        path = Path(pkcs12_path)
        demo = False
    else:
        directory = Path(instance_path) / DEMO_DIR_NAME
        path = ensure_demo_identity(directory, unit_name, unit_code, passphrase=password or None)
        password = password or demo_passphrase(directory)
        ca_path, demo = str(path.parent / "ca.pem"), True
        if str(path) not in _checked_plain:  # once per process: a parse attempt costs a key derivation
            _encrypt_if_plain(path, password)
            _checked_plain.add(str(path))
    try:
        stamp = (str(path), path.stat().st_mtime_ns, ca_path)
    except OSError as exc:
        raise SigningError(f"the signing key file {path} cannot be read: {exc}") from None
    with _lock:
        if stamp in _cache:
            return _cache[stamp]
    secret = password.encode() if isinstance(password, str) else password
    try:
        raw = path.read_bytes()
        signer = signers.SimpleSigner.load_pkcs12_data(raw, other_certs=(), passphrase=secret or None)
        _key, _cert, extra = pkcs12.load_key_and_certificates(raw, secret or None)
    except (OSError, ValueError) as exc:
        raise SigningError(f"the signing key {path} cannot be loaded: {exc}") from None
    roots: list[asn1_x509.Certificate] = []
    if ca_path:
        roots = _load_pem_certs(Path(ca_path))
    elif extra:
        # The chain inside the PKCS#12: its self-signed members are the roots we trust.
        roots = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
                 for c in extra if c.issuer == c.subject]
    if not roots:
        roots = [signer.signing_cert]
    key = SigningKey(signer=signer, subject=_subject_of(signer.signing_cert), trust_roots=tuple(roots), demo=demo)
    with _lock:
        _cache[stamp] = key
    return key


def _load_pem_certs(path: Path) -> list[asn1_x509.Certificate]:
    data = path.read_bytes()
    certs = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(data)]
    return [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs]


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
    data = pkcs12.serialize_key_and_certificates(b"unit", key, cert, extra,  # type: ignore[arg-type]
                                                 serialization.BestAvailableEncryption(secret))
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def ensure_demo_identity(directory: Path, unit_name: str = "", unit_code: str = "",
                         passphrase: str | bytes | None = None) -> Path:
    """Create (once) a demo CA and a unit certificate (EC P-256) in ``directory``; returns the PKCS#12 path.

    The PKCS#12 is encrypted with ``passphrase`` (QA_SIGNING_PKCS12_PASSWORD), or with one generated into
    ``directory/passphrase``; the folder is 0700 and every file in it 0600.
    """
    p12 = directory / "unit.p12"
    if p12.exists():
        return p12
    directory.parent.mkdir(parents=True, exist_ok=True)
    # Built in a temporary folder (mkdtemp: 0700) and renamed into place: two workers starting together both
    # end up using whichever identity landed first, never half of each.
    tmp = Path(tempfile.mkdtemp(prefix=".signing-", dir=directory.parent))
    try:
        if passphrase is None:
            passphrase = secrets.token_urlsafe(24)
            fd = os.open(tmp / PASSPHRASE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(passphrase)
        _write_demo_identity(tmp, unit_name or "DEMO UNIT", unit_code or "DEMO",
                             passphrase.encode() if isinstance(passphrase, str) else passphrase)
        try:
            os.rename(tmp, directory)
        except OSError:
            if not p12.exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return p12


def _write_demo_identity(target: Path, unit_name: str, unit_code: str, passphrase: bytes) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qa-app DEMO"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "qa-app DEMO CA (không có giá trị pháp lý)")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    unit_key = ec.generate_private_key(ec.SECP256R1())
    unit_subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                              x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_name),
                              x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit_code),
                              x509.NameAttribute(NameOID.COMMON_NAME, f"{unit_name} (DEMO)")])
    unit_cert = (
        x509.CertificateBuilder().subject_name(unit_subject).issuer_name(ca_name)
        .public_key(unit_key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * 10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(unit_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    for name, cert in (("ca.pem", ca_cert), ("unit.pem", unit_cert)):
        fd = os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(cert.public_bytes(serialization.Encoding.PEM))
    data = pkcs12.serialize_key_and_certificates(b"unit", unit_key, unit_cert, [ca_cert],
                                                 serialization.BestAvailableEncryption(passphrase))
    fd = os.open(target / "unit.p12", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    # The CA key is thrown away: the demo CA issues exactly one certificate.


def _outside_event_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` directly, or in a worker thread when this thread already runs an asyncio loop.

    pyHanko's synchronous API calls asyncio.run(), which refuses to start inside a running loop
    (an async server, or Playwright's sync API in the browser tests).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def sign_pdf(pdf: bytes, key: SigningKey, *, reason: str = "", location: str = "") -> bytes:
    """Sign ``pdf`` with a PAdES baseline B-B signature (invisible field) and return the signed bytes."""
    return _outside_event_loop(_sign_pdf, pdf, key, reason=reason, location=location)


def _sign_pdf(pdf: bytes, key: SigningKey, *, reason: str = "", location: str = "") -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None, location=location or None,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.sign_pdf(writer, meta, signer=key.signer)
    return out.getvalue()


def validate_pdf(data: bytes, trust_roots: tuple[asn1_x509.Certificate, ...]) -> SignatureCheck:
    """Validate the one embedded signature against ``trust_roots``; any failure or exception is 'invalid'."""
    return _outside_event_loop(_validate_pdf, data, trust_roots)


def _validate_pdf(data: bytes, trust_roots: tuple[asn1_x509.Certificate, ...]) -> SignatureCheck:
    if not data.startswith(b"%PDF-"):
        return SignatureCheck(False, "not_pdf")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = reader.embedded_signatures
        if not sigs:
            return SignatureCheck(False, "unsigned")
        if len(sigs) != 1:
            return SignatureCheck(False, "several_signatures")
        sig = sigs[0]
        context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False,
                                    revocation_mode="soft-fail")
        status = validate_pdf_signature(sig, context)
    except Exception:  # noqa: BLE001 - a damaged or hostile file must read as "not authentic", never crash
        return SignatureCheck(False, "unreadable")
    signer = _subject_of(status.signing_cert) if status.signing_cert is not None else ""
    signed_at = status.signer_reported_dt
    if not status.intact or not status.valid:
        return SignatureCheck(False, "tampered", signer, signed_at)
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        return SignatureCheck(False, "not_whole_file", signer, signed_at)
    if not status.trusted:
        return SignatureCheck(False, "untrusted", signer, signed_at)
    return SignatureCheck(True, "", signer, signed_at)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
