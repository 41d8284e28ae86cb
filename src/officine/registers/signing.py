"""Electronic signatures of PDF documents (PAdES, through pyHanko): a provider's key and
certificate in a PKCS#12 file, a self-signed certificate for a provider who has none, signing,
and the verification of a signed PDF received from elsewhere.

Verification accepts a document only when all of this holds, and says in French which part
failed otherwise:
- exactly one signature, PAdES, covering the whole file (nothing added after it);
- the signed bytes unchanged and the signature mathematically valid for the certificate inside;
- the bytes outside the signed range (the signature itself) in their one canonical form:
  hexadecimal of a single case, then zeros (a changed byte there would otherwise go unnoticed);
- the certificate valid now and made for signing;
- when a certificate is expected (pinned), the very same certificate.

Trust comes from the pin, not from an authority: the expected certificate is its own trust
root, so a certificate from an authority and a self-signed one are judged alike. Nothing is
fetched from the network (no revocation or timestamp server is contacted)."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from officine.errors import UserError

MAX_PDF_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 256 * 1024
MIN_PASSPHRASE = 12
CERTIFICATE_YEARS = 3
# pyHanko logs every refused signature with a traceback: the French refusal says it instead.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Identity:
    """A key and its certificate, ready to sign."""

    pkcs12: bytes
    passphrase: bytes
    subject: str
    cert_sha256: str
    self_signed: bool


@dataclass(frozen=True)
class Verified:
    """What a verified signature says: who signed, with which certificate, and when (as the
    signer's machine said: without a timestamp authority it is a claim, not a proof)."""

    signer: str
    cert_pem: str
    cert_sha256: str
    self_signed: bool
    signed_at: datetime
    attachments: dict[str, bytes]
    document_sha256: str


def create_identity(name: str, organisation: str, email: str, passphrase: str, now: datetime | None = None) -> bytes:
    """A new key (ECDSA P-256) and a self-signed certificate in a PKCS#12 file protected by
    `passphrase`. No authority vouches for it: it proves that later documents come from whoever
    holds this key, not who that person is."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise UserError(f"Le mot de passe du certificat doit compter au moins {MIN_PASSPHRASE} caractères.")
    name, organisation, email = (" ".join(x.split()) for x in (name, organisation, email))
    if not 2 <= len(name) <= 64 or not 2 <= len(organisation) <= 64 or len(email) > 128:
        raise UserError("Nom (2 à 64 caractères), société (2 à 64) et courriel (128 au plus) du signataire.")
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    subject = x509.Name(attributes)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        name.encode("utf-8"), key, cert, None, serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
    )


def load_identity(data: bytes, passphrase: str) -> Identity:
    """A PKCS#12 file (.p12, .pfx) and its password, or a French refusal."""
    if len(data) > 64 * 1024:
        raise UserError("Ce fichier est trop gros pour être un certificat (.p12 ou .pfx, 64 ko au plus).")
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, passphrase.encode("utf-8"))
    except ValueError as exc:
        raise UserError(
            "Le certificat n'a pas pu être ouvert : mot de passe incorrect, ou fichier qui n'est pas un .p12 / .pfx."
        ) from exc
    if key is None or cert is None:
        raise UserError("Ce fichier .p12 ne contient pas à la fois une clé et son certificat.")
    now = datetime.now(UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise UserError(
            "Ce certificat n'est pas valide aujourd'hui (valable du "
            f"{cert.not_valid_before_utc:%d/%m/%Y} au {cert.not_valid_after_utc:%d/%m/%Y})."
        )
    der = cert.public_bytes(serialization.Encoding.DER)
    return Identity(
        data,
        passphrase.encode("utf-8"),
        cert.subject.rfc4514_string(),
        hashlib.sha256(der).hexdigest(),
        cert.issuer == cert.subject,
    )


def sign_pdf(pdf: bytes, identity: Identity, attachments: dict[str, bytes], reason: str, location: str = "") -> bytes:
    """The PDF with its attachments embedded, then signed (PAdES baseline B) by `identity`."""
    from pyhanko.pdf_utils import embed  # noqa: PLC0415 - heavy: loaded when signing only
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: PLC0415
    from pyhanko.sign import fields, signers  # noqa: PLC0415

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for name, content in attachments.items():
        data = embed.EmbeddedFileObject.from_file_data(writer, content, mime_type="application/json")
        embed.embed_file(writer, embed.FileSpec(file_spec_string=name, embedded_data=data, description=name))
    signer = signers.SimpleSigner.load_pkcs12_data(identity.pkcs12, other_certs=(), passphrase=identity.passphrase)
    if signer is None:  # pragma: no cover - load_identity opened the same file
        raise UserError("Le certificat n'a pas pu être ouvert.")
    meta = signers.PdfSignatureMetadata(
        field_name="Signature", subfilter=fields.SigSeedSubFilter.PADES, reason=reason[:200], location=location[:120]
    )
    out = signers.sign_pdf(writer, meta, signer=signer)
    return bytes(out.getvalue())


REFUSED = "Le PDF est refusé"


def verify_pdf(data: bytes, expected_sha256: str | None = None) -> Verified:
    """A signed PDF as received, verified (see the module's docstring), or a French refusal."""
    if len(data) > MAX_PDF_BYTES:
        raise UserError(f"{REFUSED} : il dépasse {MAX_PDF_BYTES // (1024 * 1024)} Mo.")
    if not data.startswith(b"%PDF-"):
        raise UserError(f"{REFUSED} : ce fichier n'est pas un PDF.")
    try:
        return _verify(data, expected_sha256)
    except UserError:
        raise
    except (Exception, RecursionError) as exc:  # a damaged or hostile file: never a traceback
        raise UserError(
            f"{REFUSED} : il est abîmé ou a été modifié après sa signature ({type(exc).__name__}). "
            "Demandez au prestataire de vous renvoyer le fichier qu'il a signé, sans l'ouvrir ni le modifier."
        ) from exc


def _verify(data: bytes, expected_sha256: str | None) -> Verified:
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415
    from pyhanko.sign.validation import validate_pdf_signature  # noqa: PLC0415
    from pyhanko.sign.validation.status import SignatureCoverageLevel  # noqa: PLC0415
    from pyhanko_certvalidator import ValidationContext  # noqa: PLC0415

    reader = PdfFileReader(io.BytesIO(data), strict=True)
    signatures = reader.embedded_signatures
    if not signatures:
        raise UserError(f"{REFUSED} : il ne porte aucune signature électronique.")
    if len(signatures) > 1:
        raise UserError(
            f"{REFUSED} : il porte plusieurs signatures ; un questionnaire n'en a qu'une, celle du prestataire."
        )
    sig = signatures[0]
    _canonical_contents(data, [int(x) for x in sig.byte_range])
    cert = sig.signer_cert
    der = cert.dump()
    fingerprint = hashlib.sha256(der).hexdigest()
    context = ValidationContext(trust_roots=[cert], allow_fetching=False)
    status = validate_pdf_signature(sig, context)
    if not (status.intact and status.valid):
        raise UserError(
            f"{REFUSED} : il a été modifié après sa signature (ou la signature est abîmée). "
            "Demandez au prestataire de vous renvoyer le fichier qu'il a signé."
        )
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        raise UserError(f"{REFUSED} : des éléments ont été ajoutés au fichier après sa signature.")
    if not status.trusted:
        raise UserError(
            f"{REFUSED} : le certificat du signataire n'est pas valide aujourd'hui (expiré, pas encore valable ou "
            "non prévu pour signer)."
        )
    if expected_sha256 is not None and fingerprint != expected_sha256:
        raise UserError(
            f"{REFUSED} : il est signé par une autre clé que celle attendue pour ce prestataire "
            f"(empreinte attendue {_short(expected_sha256)}, reçue {_short(fingerprint)}). Si le prestataire a "
            "réellement changé de certificat, le titulaire peut effacer le certificat attendu sur la fiche du "
            "prestataire, puis réimporter le fichier."
        )
    signed_at = status.signer_reported_dt or datetime.now(UTC)
    return Verified(
        signer=_subject(cert),
        cert_pem=_pem(der),
        cert_sha256=fingerprint,
        self_signed=cert.self_signed in ("yes", "maybe"),
        signed_at=signed_at,
        attachments=_attachments(reader),
        document_sha256=hashlib.sha256(data).hexdigest(),
    )


def _canonical_contents(data: bytes, byte_range: list[int]) -> None:
    """The bytes between the two signed ranges must be `<` + the CMS object in hexadecimal of one
    case, padded with zeros only, + `>`: anything else there is a change the signature cannot see."""
    if len(byte_range) != 4 or byte_range[0] != 0 or byte_range[2] + byte_range[3] != len(data):
        raise UserError(f"{REFUSED} : la signature ne couvre pas tout le fichier.")
    gap = data[byte_range[1] : byte_range[2]]
    if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">":
        raise UserError(f"{REFUSED} : la signature a été modifiée.")
    hexa = gap[1:-1]
    one_case = hexa in (hexa.upper(), hexa.lower())  # pyHanko writes upper case; a flipped case is a change
    if len(hexa) % 2 or not one_case or any(c not in b"0123456789abcdefABCDEF" for c in hexa):
        raise UserError(f"{REFUSED} : la signature a été modifiée.")
    der = bytes.fromhex(hexa.decode("ascii"))
    end = _der_length(der)
    if end is None or any(der[end:]):
        raise UserError(f"{REFUSED} : la signature a été modifiée.")
    _strict_cms(der[:end])


def _strict_cms(der: bytes) -> None:
    """The parts of the CMS object that its signature does not cover, in the one form officine-cyber
    writes: canonical DER, one digest algorithm (the signer's), version 1, no unsigned attributes,
    one certificate. A reader that tolerates other forms would let a changed byte through."""
    info = cms.ContentInfo.load(der, strict=True)
    if info.dump(force=True) != der or info["content_type"].native != "signed_data":
        raise UserError(f"{REFUSED} : la signature a été modifiée.")
    signed = info["content"]
    signers = signed["signer_infos"]
    certificates = signed["certificates"]
    if len(signers) != 1 or len(certificates) != 1 or signed["version"].native != "v1":
        raise UserError(f"{REFUSED} : la signature a été modifiée.")
    signer = signers[0]
    digests = [d.dump() for d in signed["digest_algorithms"]]
    if (
        digests != [signer["digest_algorithm"].dump()]
        or signer["version"].native != "v1"
        or signer["unsigned_attrs"].native is not None
        or signed["encap_content_info"]["content"].native is not None
        or signed["encap_content_info"]["content_type"].native != "data"
    ):
        raise UserError(f"{REFUSED} : la signature a été modifiée.")
    cert = certificates[0].chosen
    sid = signer["sid"].chosen
    if sid["issuer"].dump() != cert.issuer.dump() or sid["serial_number"].native != cert.serial_number:
        raise UserError(f"{REFUSED} : la signature a été modifiée.")


def _der_length(der: bytes) -> int | None:
    """The length of the first DER element (a SEQUENCE), header included."""
    if len(der) < 2 or der[0] != 0x30:
        return None
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count:
        return None
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")


def _attachments(reader: object) -> dict[str, bytes]:
    """The files embedded in the signed PDF (their bytes are covered by the signature)."""
    from pyhanko.pdf_utils import generic  # noqa: PLC0415

    root = reader.root  # type: ignore[attr-defined]
    found: dict[str, bytes] = {}
    if "/Names" not in root:
        return found
    names = root["/Names"]  # indexing dereferences (get() would not)
    if not isinstance(names, generic.DictionaryObject) or "/EmbeddedFiles" not in names:
        return found
    tree = names["/EmbeddedFiles"]
    pairs = tree["/Names"] if isinstance(tree, generic.DictionaryObject) and "/Names" in tree else []
    for i in range(0, min(len(pairs), 16) - 1, 2):
        name = str(pairs[i])
        stream = pairs[i + 1].get_object()["/EF"]["/F"].get_object()
        content = stream.data
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise UserError(f"{REFUSED} : la pièce jointe {name[:60]} est trop grosse.")
        found[name] = bytes(content)
    return found


def _subject(cert: asn1_x509.Certificate) -> str:
    parts = cert.subject.native
    name = parts.get("common_name") or ""
    org = parts.get("organization_name") or ""
    email = parts.get("email_address") or ""
    text = ", ".join(str(x) for x in (name, org, email) if x)
    return " ".join(text.split())[:300] or "signataire sans nom"


def _pem(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode("ascii")


def _short(fingerprint: str) -> str:
    """The first 16 hexadecimal digits, grouped by four: enough to compare by eye."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, 16, 4)).upper()


def short_fingerprint(fingerprint: str) -> str:
    return _short(fingerprint)
