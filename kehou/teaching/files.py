"""What a courseware file is, decided by its content, never by its name or the browser's content type; and an Office
package made safe to convert.

Accepted: PDF; PowerPoint and Word as Office Open XML (.pptx, .docx; the old binary .ppt and .doc are refused with
a request to save them again, their external links cannot be stripped); PNG, JPEG, GIF and WebP images; MP3, M4A,
Ogg and WAV sound; MP4 and WebM video. An HTML page or an SVG drawing named .pdf, a ZIP that is no Office file, an
executable: ``invalid_file_type``.

An Office file is a ZIP package. Before anything converts it, :func:`office_clean` reads its directory and refuses
(``courseware_unsafe``) a package that unpacks to more than ``UNPACKED_MAX_BYTES``, compresses a part more than
``MAX_RATIO`` to one (a zip bomb), has more than ``MAX_PARTS`` parts, is encrypted, names a path outside itself, or
carries macros; then it writes the package again without its external relationships (linked pictures, OLE links,
hyperlinks to the outside, remote templates), so that the converter never fetches anything.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO
from xml.etree import ElementTree

from defusedxml import ElementTree as SafeTree
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError

HEAD_BYTES = 64
MAX_PARTS = 5000
MAX_RATIO = 200
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class FileType:
    kind: str  # Courseware.Kind
    content_type: str
    extension: str

    @property
    def media(self) -> bool:
        return self.kind in ("audio", "video")


PDF = FileType("pdf", "application/pdf", "pdf")
PPTX = FileType("slides", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
DOCX = FileType("document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
PNG = FileType("image", "image/png", "png")
JPEG = FileType("image", "image/jpeg", "jpg")
GIF = FileType("image", "image/gif", "gif")
WEBP = FileType("image", "image/webp", "webp")
MP3 = FileType("audio", "audio/mpeg", "mp3")
M4A = FileType("audio", "audio/mp4", "m4a")
OGG = FileType("audio", "audio/ogg", "ogg")
WAV = FileType("audio", "audio/wav", "wav")
MP4 = FileType("video", "video/mp4", "mp4")
WEBM = FileType("video", "video/webm", "webm")
ZIP = FileType("zip", "application/zip", "zip")  # to be opened: an Office package or nothing we take

_PDF_HEAD = re.compile(rb"^%PDF-[12]\.\d")
_JPEG_MARKERS = {*range(0xE0, 0xF0), 0xDB, 0xC0, 0xC2, 0xC4, 0xFE}
_AUDIO_BRANDS = {b"M4A ", b"M4B "}
_VIDEO_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"MSNV"}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def unsafe(message: str, **fields: object) -> KehouError:
    return KehouError(message, code=ErrorCode.COURSEWARE_UNSAFE, fields=fields)


def not_accepted(message: str = "") -> KehouError:
    return KehouError(
        message
        or _(
            "Upload a PDF, a PowerPoint or Word file (.pptx, .docx), an image (PNG, JPEG, GIF, WebP), a sound (MP3, "
            "M4A, Ogg, WAV) or a video (MP4, WebM). The file's content is checked, not its name."
        ),
        code=ErrorCode.INVALID_FILE_TYPE,
        fields={"file": [{"code": "invalid_file_type", "message": _("Not a kind of courseware we take.")}]},
    )


def sniff(head: bytes) -> FileType | None:
    """The type of a file from its first bytes (ZIP: to be opened), or None."""
    if _PDF_HEAD.match(head):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 4 and head[:3] == b"\xff\xd8\xff" and head[3] in _JPEG_MARKERS:
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:4] == b"OggS":
        return OGG
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] in (0xFB, 0xF3, 0xF2, 0xFA)):
        return MP3
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return M4A
        if brand in _VIDEO_BRANDS:
            return MP4
        return None
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return WEBM
    if head[:4] == b"PK\x03\x04":
        return ZIP
    if head.startswith(OLE2):
        raise not_accepted(
            _("Old binary PowerPoint and Word files (.ppt, .doc) are not taken: save the file as .pptx or .docx.")
        )
    return None


def _safe_name(name: str) -> bool:
    return not (name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name or "\x00" in name)


MACRO_RELATIONSHIPS = ("vbaproject", "activexcontrolbinary", "vbadata", "wordvbadata")
MACRO_CONTENT = (b"macroenabled", b"vbaproject", b"activex", b"vbadata")
RELS_MAX_BYTES = 2 * 1024 * 1024


def office_clean(
    source: IO[bytes], *, unpacked_max: int, part_max: int = 20 * 1024 * 1024
) -> tuple[IO[bytes], FileType, int, int]:
    """An Office package checked and written again without its external relationships: (the package, in a
    temporary file, its type, its size, the number of external references removed). Refuses what is not a sound
    .pptx or .docx. Parts are copied in chunks, never whole in memory."""
    try:
        package = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise not_accepted() from exc
    with package:
        members = package.infolist()
        if len(members) > MAX_PARTS:
            raise unsafe(_("The file has too many parts to be an Office document."), parts=len(members))
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names:
            raise not_accepted()
        if "ppt/presentation.xml" in names:
            file_type = PPTX
        elif "word/document.xml" in names:
            file_type = DOCX
        else:
            raise not_accepted()
        total = 0
        for member in members:
            if member.flag_bits & 0x1:
                raise unsafe(_("The file is encrypted: save it without a password."))
            if not _safe_name(member.filename):
                raise unsafe(_("The file names a path outside itself."))
            lower = member.filename.lower()
            if lower.endswith(("vbaproject.bin", "vbadata.xml")) or "/activex/" in lower:
                raise unsafe(_("The file carries macros: save it as a plain .pptx or .docx."))
            total += member.file_size
            if total > unpacked_max:
                raise unsafe(_("The file unpacks to more than its limit (a compressed bomb?)."), max_bytes=unpacked_max)
            if member.compress_size and member.file_size / member.compress_size > MAX_RATIO:
                raise unsafe(_("A part of the file is compressed beyond reason (a compressed bomb?)."))
            if lower.endswith(".xml") and member.file_size > part_max:
                raise unsafe(_("A part of the file is too large for a document."), max_bytes=part_max)
        types = _read_bounded(package, package.getinfo("[Content_Types].xml"), RELS_MAX_BYTES).lower()
        if any(marker in types for marker in MACRO_CONTENT):
            raise unsafe(_("The file carries macros: save it as a plain .pptx or .docx."))
        out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned to the caller
        removed = 0
        try:
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as clean:
                for member in members:
                    if member.is_dir():
                        continue
                    if member.filename.endswith(".rels"):
                        data, n = strip_external(_read_bounded(package, member, RELS_MAX_BYTES))
                        removed += n
                        clean.writestr(member.filename, data)
                    else:
                        _copy_bounded(package, member, clean)
            size = out.tell()
            out.seek(0)
        except BaseException:
            out.close()
            raise
    return out, file_type, size, removed


def _read_bounded(package: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    """A small part's bytes, never more than its directory says nor than ``limit``."""
    if member.file_size > limit:
        raise unsafe(_("A part of the file is too large for what it is."))
    try:
        with package.open(member) as part:
            data = part.read(member.file_size + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise unsafe(_("A part of the file cannot be read.")) from exc
    if len(data) > member.file_size:
        raise unsafe(_("A part of the file is larger than the package says."))
    return data


def _copy_bounded(package: zipfile.ZipFile, member: zipfile.ZipInfo, clean: zipfile.ZipFile) -> None:
    """A part copied in chunks, never more than its directory says (a lying directory is a bomb too)."""
    seen = 0
    try:
        with package.open(member) as part, clean.open(member.filename, "w", force_zip64=True) as copy:
            for chunk in iter(lambda: part.read(1024 * 1024), b""):
                seen += len(chunk)
                if seen > member.file_size:
                    raise unsafe(_("A part of the file is larger than the package says."))
                copy.write(chunk)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise unsafe(_("A part of the file cannot be read.")) from exc


def strip_external(rels: bytes) -> tuple[bytes, int]:
    """A relationships part without its ``TargetMode="External"`` relationships: (the part, how many went)."""
    try:
        root = SafeTree.fromstring(rels, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise unsafe(_("A part of the file declares entities.")) from exc
    except ElementTree.ParseError as exc:
        raise unsafe(_("A part of the file is not well-formed.")) from exc
    removed = 0
    for rel in list(root):
        if (rel.get("Type") or "").lower().rsplit("/", 1)[-1] in MACRO_RELATIONSHIPS:
            raise unsafe(_("The file carries macros: save it as a plain .pptx or .docx."))
        if (rel.get("TargetMode") or "").lower() == "external":
            root.remove(rel)
            removed += 1
    if not removed:
        return rels, 0
    ElementTree.register_namespace("", RELS_NS)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True), removed
