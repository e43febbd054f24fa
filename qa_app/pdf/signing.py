"""PAdES signatures of the minutes with pyHanko, kept apart from the layout; and their validation.

Pure module (no Flask, no database): callers pass the paths and settings.

Level: PAdES baseline B-LT at issue, B-LTA once `flask minutes extend` has run.
* The unit's signature *certifies* the document with DocMDP "no changes allowed": any later change to the
  content breaks it, while the two kinds of update that long-term archiving needs (a document security store
  with certificates and revocation data, and document timestamps) stay allowed (ISO 32000-2, PAdES).
* It carries an RFC 3161 signature timestamp from a time-stamping authority (TSA): the configured one, or in
  the demo an in-process TSA whose certificate the demo CA issued (no network service involved).
* The certificate chain and the revocation data (the demo CA publishes a CRL; real CAs a CRL or OCSP,
  fetched at signing time) are embedded in the document security store (DSS).
* Validation happens at the time the timestamps prove: the signature at its signature timestamp, each
  timestamp at the time of the next one, the newest at "now". A unit certificate that expires or is renewed
  later therefore does not invalidate minutes signed while it was valid.

A configured PKCS#12 file signs for real; without one, a demo CA, a unit certificate, a TSA certificate and a
CRL are generated once under ``instance/signing/`` and the minutes say, on page 1, that the certificate is a
test one with no legal value.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import io
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

# pyHanko still imports cryptography's DSA classes, which cryptography 51 deprecates with a warning at import.
# No DSA key is ever made or accepted here (ECDSA and RSA only); the warning would only be noise in the server's
# log (and an error under the test suite's warnings-as-errors).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError
    from pyhanko_certvalidator import ValidationContext

from .demo_identity import (  # noqa: F401 (re-exported)
    DEMO_CA_DAYS,
    DEMO_TSA_DAYS,
    DEMO_UNIT_DAYS,
    PASSPHRASE_FILE,
    DemoTimeStamper,
    _checked_plain,
    _demo_timestamper,
    _encrypt_if_plain,
    _is_plain,
    _key_usage,
    _write_demo_identity,
    demo_passphrase,
    ensure_demo_identity,
)
from .pki import SigningError, _as_asn1  # noqa: F401 (re-exported)

T = TypeVar("T")

DEMO_NOTICE_VI = "Ký bằng chứng thư số THỬ NGHIỆM (demo) — không có giá trị pháp lý"
DEMO_NOTICE_EN = "Signed with a TEST (demo) digital certificate — no legal value"
DEMO_DIR_NAME = "signing"
FIELD_NAME = "UnitSignature"


@dataclass(frozen=True)
class TsaSettings:
    """Where the RFC 3161 timestamps come from: a URL (with optional basic-auth credentials) and its roots."""

    url: str = ""
    username: str = ""
    password: str = ""
    ca_path: str = ""


@dataclass(frozen=True)
class SigningKey:
    """A loaded signer with what signing and validation need: TSA, trust roots, chain, revocation data."""

    signer: signers.SimpleSigner
    subject: str
    trust_roots: tuple[asn1_x509.Certificate, ...]
    demo: bool
    timestamper: Any = None  # a pyHanko TimeStamper
    tsa_roots: tuple[asn1_x509.Certificate, ...] = ()
    other_certs: tuple[asn1_x509.Certificate, ...] = ()
    crls: tuple[asn1_crl.CertificateList, ...] = ()
    fetch_revocation: bool = False
    unit_not_after: dt.datetime | None = None

    def context(self, roots: tuple[asn1_x509.Certificate, ...] | None = None,
                moment: dt.datetime | None = None) -> ValidationContext:
        """A validation context with this key's chain and revocation data (fetching only for real keys)."""
        return ValidationContext(
            trust_roots=list(roots or self.trust_roots), other_certs=list(self.other_certs),
            crls=list(self.crls), allow_fetching=self.fetch_revocation and moment is None, moment=moment,
            revocation_mode="hard-fail")


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of validating the embedded signature of a PDF (reason is a short code when invalid)."""

    valid: bool
    reason: str = ""
    signer: str = ""
    signed_at: dt.datetime | None = None
    level: str = ""  # "B-B", "B-T", "B-LT" or "B-LTA"
    timestamped_at: dt.datetime | None = None  # the time the signature timestamp proves
    document_timestamps: tuple[dt.datetime, ...] = ()
    detail: str = ""  # one line for operators (never shown to the public)
    signed_revision_sha256: str = ""


_lock = threading.Lock()
_cache: dict[tuple, SigningKey] = {}


def _subject_of(cert: asn1_x509.Certificate) -> str:
    return cert.subject.human_friendly


def load_signing_key(pkcs12_path: str | None, password: str | bytes | None, instance_path: str,
                     ca_path: str | None = None, unit_name: str = "", unit_code: str = "", *,
                     tsa: TsaSettings | None = None) -> SigningKey:
    """The configured signer, or the demo one (generated on first use); cached per file, mtime and TSA."""
    tsa = tsa or TsaSettings()
    if pkcs12_path:
        path = Path(pkcs12_path)
        demo = False
    else:
        directory = Path(instance_path) / DEMO_DIR_NAME
        path = ensure_demo_identity(directory, unit_name, unit_code, passphrase=password or None)
        password = password or demo_passphrase(directory)
        ca_path, demo = str(path.parent / "ca.pem"), True
        if str(path) not in _checked_plain:  # once per process: a parse attempt costs a key derivation
            for key_file in (path, path.parent / "tsa.p12"):  # the demo TSA's key is a signing key too
                if key_file.exists():
                    _encrypt_if_plain(key_file, password)
            _checked_plain.add(str(path))
    try:
        stamp = (str(path), path.stat().st_mtime_ns, ca_path, tsa)
    except OSError as exc:
        raise SigningError(f"the signing key file {path} cannot be read: {exc}") from None
    with _lock:
        if stamp in _cache:
            return _cache[stamp]
    secret = password.encode() if isinstance(password, str) else password
    try:
        raw = path.read_bytes()
        signer = signers.SimpleSigner.load_pkcs12_data(raw, other_certs=(), passphrase=secret or None)
        _key, unit_cert, extra = pkcs12.load_key_and_certificates(raw, secret or None)
    except (OSError, ValueError) as exc:
        raise SigningError(f"the signing key {path} cannot be loaded: {exc}") from None
    chain = tuple(_as_asn1(c) for c in extra or ())
    roots: list[asn1_x509.Certificate] = []
    if ca_path:
        roots = _load_pem_certs(Path(ca_path))
    elif chain:
        # The chain inside the PKCS#12: its self-signed members are the roots we trust.
        roots = [c for c in chain if c.self_signed == "maybe" or c.issuer == c.subject]
    if not roots:
        roots = [signer.signing_cert]
    if demo:
        directory = path.parent
        legacy = directory / "legacy-ca.pem"
        if legacy.exists():  # minutes signed by an earlier demo identity stay verifiable
            roots += _load_pem_certs(legacy)
        timestamper, tsa_roots = _demo_timestamper(directory, secret or None), tuple(_load_pem_certs(directory / "ca.pem"))
        crls = (asn1_crl.CertificateList.load((directory / "ca.crl").read_bytes()),)
    else:
        if not tsa.url:
            raise SigningError("no time-stamping authority is configured (SIGNING_TSA_URL): minutes cannot be "
                               "signed at level B-LT without one")
        auth = (tsa.username, tsa.password) if tsa.username else None
        timestamper = timestamps.HTTPTimeStamper(tsa.url, auth=auth, timeout=10)
        tsa_roots = tuple(_load_pem_certs(Path(tsa.ca_path))) if tsa.ca_path else tuple(roots)
        crls = ()
    key = SigningKey(signer=signer, subject=_subject_of(signer.signing_cert), trust_roots=tuple(roots), demo=demo,
                     timestamper=timestamper, tsa_roots=tsa_roots, other_certs=chain, crls=crls,
                     fetch_revocation=not demo,
                     unit_not_after=unit_cert.not_valid_after_utc if unit_cert is not None else None)
    with _lock:
        _cache[stamp] = key
    return key


def _load_pem_certs(path: Path) -> list[asn1_x509.Certificate]:
    try:
        data = path.read_bytes()
        certs = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                 else [x509.load_der_x509_certificate(data)])
    except (OSError, ValueError) as exc:
        raise SigningError(f"the certificate file {path} cannot be read: {exc}") from None
    return [_as_asn1(c) for c in certs]


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


# ---------------------------------------------------------------------------------------------- signing


def sign_pdf(pdf: bytes, key: SigningKey, *, reason: str = "", location: str = "") -> bytes:
    """Certify ``pdf`` (DocMDP: no changes) with a timestamped PAdES B-LT signature; return the signed bytes."""
    return _outside_event_loop(_sign_pdf, pdf, key, reason=reason, location=location)


def _sign_pdf(pdf: bytes, key: SigningKey, *, reason: str = "", location: str = "") -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None, location=location or None,
        certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        embed_validation_info=True, validation_context=key.context(),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    try:
        out = signers.PdfSigner(meta, signer=key.signer, timestamper=key.timestamper).sign_pdf(writer)
    except timestamps.TimestampRequestError as exc:
        raise SigningError(f"the time-stamping authority did not answer: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many types; the caller needs one, with the cause
        if isinstance(exc, SigningError):
            raise
        raise SigningError(f"the minutes could not be signed: {type(exc).__name__}: {exc}") from None
    return out.getvalue()


def add_document_timestamp(pdf: bytes, key: SigningKey) -> bytes:
    """Add the validation data of the newest timestamp to the DSS and append a document timestamp (B-LTA)."""
    return _outside_event_loop(_add_document_timestamp, pdf, key)


def _add_document_timestamp(pdf: bytes, key: SigningKey) -> bytes:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamper = signers.PdfTimeStamper(key.timestamper)
    try:
        out = stamper.update_archival_timestamp_chain(reader, key.context(key.tsa_roots), in_place=False)
    except timestamps.TimestampRequestError as exc:
        raise SigningError(f"the time-stamping authority did not answer: {exc}") from None
    except Exception as exc:  # noqa: BLE001
        raise SigningError(f"the document timestamp could not be added: {type(exc).__name__}: {exc}") from None
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- validation


def _tst_time(signed_data: Any) -> dt.datetime:
    return signed_data["encap_content_info"]["content"].parsed["gen_time"].native


def _tst_signer_not_after(signed_data: Any) -> dt.datetime | None:
    sid = signed_data["signer_infos"][0]["sid"]
    for choice in signed_data["certificates"] or ():
        cert = choice.chosen
        if isinstance(cert, asn1_x509.Certificate) and sid.name == "issuer_and_serial_number" and \
                cert.serial_number == sid.chosen["serial_number"].native:
            return cert["tbs_certificate"]["validity"]["not_after"].native
    return None


def _signature_timestamp(sig: Any) -> Any | None:
    for attr in sig.signer_info["unsigned_attrs"] or ():
        if attr["type"].native == "signature_time_stamp_token":
            return attr["values"][0]["content"]
    return None


@dataclass
class _Material:
    certs: list[asn1_x509.Certificate] = field(default_factory=list)
    crls: list[asn1_crl.CertificateList] = field(default_factory=list)
    ocsps: list[Any] = field(default_factory=list)
    present: bool = False


def _dss_material(reader: PdfFileReader) -> _Material:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return _Material()
    context = dss.as_validation_context({"trust_roots": [], "allow_fetching": False})
    return _Material(list(context.certificate_registry), list(context.revinfo_manager.crls),
                     list(context.revinfo_manager.ocsps), True)


def validate_pdf(data: bytes, trust_roots: tuple[asn1_x509.Certificate, ...],
                 tsa_roots: tuple[asn1_x509.Certificate, ...] | None = None,
                 moment: dt.datetime | None = None) -> SignatureCheck:
    """Validate the unit signature and the timestamps after it; any failure or exception is 'invalid'.

    Accepted: exactly one approval/certification signature, then only DSS updates and document timestamps
    from a trusted TSA. ``moment`` is "now" (injectable, so tests and operators can ask "would this still
    verify on that day?").
    """
    return _outside_event_loop(_validate_pdf, data, trust_roots, tsa_roots or trust_roots,
                               moment or dt.datetime.now(dt.UTC))


def _context(roots: tuple[asn1_x509.Certificate, ...], material: _Material, moment: dt.datetime,
             mode: str) -> ValidationContext:
    return ValidationContext(trust_roots=list(roots), other_certs=material.certs, crls=material.crls,
                             ocsps=material.ocsps, moment=moment, allow_fetching=False, revocation_mode=mode)


_ALLOWED_LATER = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)


def _validate_pdf(data: bytes, trust_roots: tuple[asn1_x509.Certificate, ...],
                  tsa_roots: tuple[asn1_x509.Certificate, ...], now: dt.datetime) -> SignatureCheck:
    if not data.startswith(b"%PDF-"):
        return SignatureCheck(False, "not_pdf")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = reader.embedded_signatures
        if not sigs:
            return SignatureCheck(False, "unsigned")
        unit, later = sigs[0], sigs[1:]
        if unit.sig_object_type != "/Sig" or any(s.sig_object_type != "/DocTimeStamp" for s in later):
            return SignatureCheck(False, "several_signatures", detail="a signature other than a document "
                                                                      "timestamp follows the unit signature")
        material = _dss_material(reader)
        sig_ts = _signature_timestamp(unit)
        doc_times = [_tst_time(s.signed_data) for s in later]
        # Each timestamp is checked at the time the next one proves; the newest at "now".
        points = ([_tst_time(sig_ts)] if sig_ts is not None else []) + doc_times + [now]
        signed_moment = points[0]
        # With revocation data in the file, missing or failing revocation checks are failures (B-LT).
        mode = "hard-fail" if material.present else "soft-fail"
        signer_ctx = _context(trust_roots, material, signed_moment, mode)
        ts_ctx = _context(tsa_roots, material, points[1] if sig_ts is not None else now, mode)
        status = validate_pdf_signature(unit, signer_ctx, ts_validation_context=ts_ctx)
        revision = data[: unit.byte_range[2] + unit.byte_range[3]] if unit.byte_range else b""
        later_status = [validate_pdf_timestamp(s, _context(tsa_roots, material, points[i + 1 + (sig_ts is not None)],
                                                           mode)) for i, s in enumerate(later)]
    except Exception as exc:  # noqa: BLE001 - a damaged or hostile file must read as "not authentic", never crash
        return SignatureCheck(False, "unreadable", detail=f"{type(exc).__name__}: {exc}"[:300])
    signer = _subject_of(status.signing_cert) if status.signing_cert is not None else ""
    common = dict(signer=signer, signed_at=status.signer_reported_dt,
                  timestamped_at=points[0] if sig_ts is not None else None, document_timestamps=tuple(doc_times),
                  signed_revision_sha256=sha256_hex(revision))
    level = "B-B"
    if sig_ts is not None:
        level = "B-T"
    if material.present and (material.crls or material.ocsps):
        level = "B-LT" if sig_ts is not None else level
    if later and level == "B-LT":
        level = "B-LTA"
    common["level"] = level
    if not status.intact or not status.valid:
        return SignatureCheck(False, "tampered", detail="the signature does not match the signed bytes", **common)
    if status.coverage is None or status.coverage.name not in ("ENTIRE_FILE", "ENTIRE_REVISION"):
        return SignatureCheck(False, "not_whole_file", detail="the signature covers part of a revision", **common)
    if status.coverage.name != "ENTIRE_FILE" and (status.modification_level not in _ALLOWED_LATER
                                                  or status.docmdp_ok is False):
        level_name = status.modification_level.name if status.modification_level else "unknown"
        return SignatureCheck(False, "modified",
                              detail=f"content was changed after signing (DocMDP: {level_name})", **common)
    if not status.trusted:
        return SignatureCheck(False, "untrusted", detail="the signer's certificate is not trusted at the signing "
                                                         "time", **common)
    if sig_ts is not None and (status.timestamp_validity is None or not status.timestamp_validity.valid
                               or not status.timestamp_validity.intact or not status.timestamp_validity.trusted):
        return SignatureCheck(False, "timestamp_invalid", detail="the signature timestamp is not from a trusted "
                                                                 "TSA or does not match", **common)
    for when, ts in zip(doc_times, later_status, strict=True):
        if not (ts.intact and ts.valid and ts.trusted):
            return SignatureCheck(False, "timestamp_invalid",
                                  detail=f"the document timestamp of {when:%Y-%m-%d %H:%M} UTC is not from a "
                                         "trusted TSA or does not match", **common)
        if ts.coverage is None or ts.coverage.name not in ("ENTIRE_FILE", "ENTIRE_REVISION") or (
                ts.coverage.name != "ENTIRE_FILE" and ts.modification_level not in _ALLOWED_LATER):
            return SignatureCheck(False, "modified",
                                  detail="content was changed after a document timestamp", **common)
    return SignatureCheck(True, "", **common)


def newest_timestamp_expiry(data: bytes) -> tuple[dt.datetime | None, int]:
    """When the certificate of the newest timestamp in ``data`` expires, and how many document timestamps exist.

    ``(None, n)`` when there is no timestamp at all (a B-B file).
    """
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    sigs = reader.embedded_signatures
    later = [s for s in sigs[1:] if s.sig_object_type == "/DocTimeStamp"]
    if later:
        return _tst_signer_not_after(later[-1].signed_data), len(later)
    sig_ts = _signature_timestamp(sigs[0]) if sigs else None
    return (_tst_signer_not_after(sig_ts) if sig_ts is not None else None), 0


def signed_revision_sha256(data: bytes) -> str:
    """SHA-256 of the revision the first (unit) signature covers: stable while B-LTA updates are appended."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    sigs = reader.embedded_signatures
    if not sigs or not sigs[0].byte_range:
        return sha256_hex(data)
    start, length = sigs[0].byte_range[2], sigs[0].byte_range[3]
    return sha256_hex(data[: start + length])


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
