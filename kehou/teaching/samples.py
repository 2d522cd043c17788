"""Real courseware files made on the spot, for the demo, the tests and the conversion benchmark: a PowerPoint deck
(python-pptx), a Word document (python-docx is not used: a .docx is written from its parts), a PDF (ReportLab), an
image (Pillow), a sound (WAV) and a short video's container (MP4 ``ftyp`` box; enough to be stored and served)."""

from __future__ import annotations

import io
import math
import struct
import wave
import zipfile


def deck(slides: int = 30, title: str = "色彩的秘密", *, external_link: str = "") -> bytes:
    """A 16:9 PowerPoint deck of ``slides`` slides, each with a title and three points (Chinese text)."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.util import Inches

    pres = Presentation()
    pres.slide_width, pres.slide_height = Inches(13.333), Inches(7.5)
    first = pres.slides.add_slide(pres.slide_layouts[0])
    first.shapes.title.text = title
    first.placeholders[1].text = "南昌市课后服务 · 美术社团"
    for n in range(2, slides + 1):
        slide = pres.slides.add_slide(pres.slide_layouts[1])
        slide.shapes.title.text = f"第{n}页：{POINTS[n % len(POINTS)][0]}"
        body = slide.placeholders[1].text_frame
        body.text = POINTS[n % len(POINTS)][1]
        for point in POINTS[(n + 1) % len(POINTS)][1:]:
            body.add_paragraph().text = point
        band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, pres.slide_width, Inches(0.35))
        band.fill.solid()
        band.fill.fore_color.rgb = RGBColor(0x0B, 0x6E, 0x4F)
        band.line.fill.background()
        for i, colour in enumerate(COLOURS):
            dot = slide.shapes.add_shape(
                MSO_SHAPE.OVAL,
                Inches(9.2 + 1.1 * (i % 3)),
                Inches(2.2 + 1.1 * (i // 3) + 0.2 * (n % 3)),
                Inches(0.9),
                Inches(0.9),
            )
            dot.fill.solid()
            dot.fill.fore_color.rgb = RGBColor(*colour)
            dot.line.fill.background()
        if external_link and n == 2:
            run = body.paragraphs[0].runs[0]
            run.hyperlink.address = external_link  # an external relationship, to be stripped
    out = io.BytesIO()
    pres.save(out)
    return out.getvalue()


COLOURS = [
    (0xE5, 0x39, 0x35),
    (0xFB, 0xC0, 0x2D),
    (0x1E, 0x88, 0xE5),
    (0xFB, 0x8C, 0x00),
    (0x43, 0xA0, 0x47),
    (0x8E, 0x24, 0xAA),
]
POINTS = [
    ("三原色", "红、黄、蓝是三原色", "两种原色混合得到间色", "观察身边的颜色"),
    ("冷色与暖色", "暖色让人感到温暖", "冷色让人感到安静", "找一找教室里的冷暖色"),
    ("构图", "主体放在画面的三分之一处", "留白让画面透气", "试着画一幅小风景"),
    ("线条", "直线稳定，曲线活泼", "用线条表现情绪", "画出风的形状"),
    ("明暗", "光从哪里来", "亮面、灰面、暗面", "给苹果画上影子"),
]


def document(paragraphs: int = 12, title: str = "课堂练习") -> bytes:
    """A small Word document (.docx) written from its parts."""
    body = "".join(
        f"<w:p><w:r><w:t>{title if i == 0 else f'第{i}题：观察并描述一种颜色的变化。'}</w:t></w:r></w:p>"
        for i in range(paragraphs)
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body></w:document>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in parts.items():
            package.writestr(name, text)
    return out.getvalue()


def pdf(pages: int = 3, title: str = "学习单") -> bytes:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=landscape(A4))
    _width, height = landscape(A4)
    for n in range(1, pages + 1):
        sheet.setFont("STSong-Light", 36)
        sheet.drawString(60, height - 100, f"{title}（第{n}页）")
        sheet.setFont("STSong-Light", 20)
        for i, line in enumerate(POINTS[n % len(POINTS)][1:]):
            sheet.drawString(80, height - 180 - 40 * i, f"• {line}")
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def png(width: int = 800, height: int = 600, colour: tuple[int, int, int] = (230, 120, 60)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for i in range(6):
        draw.ellipse((60 + i * 110, 200, 160 + i * 110, 300), fill=tuple(max(0, c - i * 30) for c in colour))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def wav(seconds: float = 2.0, tone: float = 440.0) -> bytes:
    rate = 16000
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone * i / rate))) for i in range(int(rate * seconds))
        )
        sound.writeframes(frames)
    return out.getvalue()


def mp4_box() -> bytes:
    """The first box of an MP4 file (``ftyp``, brand isom) and an empty ``mdat``: what the content check reads."""
    ftyp = struct.pack(">I4s4sI", 24, b"ftyp", b"isom", 512) + b"isomiso2"
    return ftyp + struct.pack(">I4s", 8, b"mdat")
