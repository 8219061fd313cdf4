"""Recreates the corpus of bad uploads in this directory, byte for byte.

Run from the repository root with the project's Python (it needs only openpyxl and pyarrow):

    .venv/bin/python tests/data/bad/make_bad_files.py

Every file is deterministic: fixed seeds, fixed zip timestamps and fixed workbook dates. The
output can still differ if a new zlib, openpyxl or pyarrow writes its bytes differently; the
tests only depend on what the files are, not on their exact bytes.

Two files need tools that are not project dependencies. They are committed, and this script
only rewrites them when those tools are importable:

- encrypted.xlsx: a workbook made by openpyxl (see `_workbook`), encrypted with the password
  "kaizen" by msoffcrypto-tool 6.1.0 (ECMA-376 agile encryption, the kind Excel writes), with
  its random salts and keys drawn from random.Random(7) so the output is repeatable.
- old_format.xls and xls_named.xlsx: a real Excel 97-2003 (BIFF8) workbook made by xlwt 1.3.0.

To recreate them, use a throwaway virtual environment, never the project's:

    uv venv /tmp/badgen --python 3.11
    uv pip install --python /tmp/badgen/bin/python \
        openpyxl==3.1.5 pyarrow==25.0.1 msoffcrypto-tool==6.1.0 xlwt==1.3.0
    /tmp/badgen/bin/python tests/data/bad/make_bad_files.py
"""

import codecs
import datetime
import io
import random
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
BOMB_MB = 100  # the sheet XML expands to this many MiB; the file stays near 100 KB

CUSTOMERS = [
    ["customer_id", "age", "plan", "monthly_spend"],
    [1001, 34, "gold", 72.5],
    [1002, 41, "silver", 40.0],
    [1003, 29, "bronze", 19.9],
    [1004, 52, "gold", 88.0],
]
CSV_TEXT = "\n".join(",".join(str(v) for v in row) for row in CUSTOMERS) + "\n"


# --- helpers ----------------------------------------------------------------------------------


def _normalised_zip(data: bytes) -> bytes:
    """The same zip with fixed member timestamps and fixed workbook dates (openpyxl uses now)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            content = source.read(member.filename)
            if member.filename == "docProps/core.xml":
                content = re.sub(
                    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", content
                )
            info = zipfile.ZipInfo(member.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, content)
    return out.getvalue()


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """A real .xlsx written by openpyxl, one sheet per entry (in order)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _normalised_zip(buffer.getvalue())


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    return buffer.getvalue()


def _png(width: int = 16, height: int = 16) -> bytes:
    """A real RGB PNG image (a colour gradient)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 16, y * 16, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _pdf() -> bytes:
    """A real one-page PDF with a line of text and a correct cross-reference table."""
    stream = b"BT /F1 18 Tf 72 720 Td (Quarterly customer report) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _docx() -> bytes:
    """A minimal real Word document."""
    word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    return _zip(
        {
            "[Content_Types].xml": (
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                b'<Default Extension="rels" '
                b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                b'<Default Extension="xml" ContentType="application/xml"/>'
                b'<Override PartName="/word/document.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                b"</Types>"
            ),
            "_rels/.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{rels}">'
                f'<Relationship Id="rId1" Type="{office}" Target="word/document.xml"/>'
                "</Relationships>"
            ).encode(),
            "word/document.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<w:document xmlns:w="{word}"><w:body><w:p><w:r>'
                "<w:t>Customer list: see the attached spreadsheet.</w:t>"
                "</w:r></w:p></w:body></w:document>"
            ).encode(),
        }
    )


def _binary_garbage() -> bytes:
    """Random bytes with NULs sprinkled in, starting with no known file signature."""
    rng = random.Random(20240101)
    data = bytearray(rng.randbytes(8192))
    data[0:2] = b"\x13\x37"  # not a BOM and not any format's magic number
    for i in range(5, len(data), 97):
        data[i] = 0
    return bytes(data)


def _corrupt_sheet() -> bytes:
    """A sound zip whose workbook opens but whose sheet XML stops partway through."""
    rows: list[list[object]] = [["customer_id", "age", "plan"]]
    rows += [[1000 + i, 20 + i % 50, "gold"] for i in range(300)]
    source = zipfile.ZipFile(io.BytesIO(_workbook({"Customers": rows})))
    members = {m.filename: source.read(m.filename) for m in source.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet[: len(sheet) * 6 // 10]
    return _zip(members)


def _broken_parts() -> bytes:
    """A sound zip with every workbook part, but xl/workbook.xml is not XML."""
    source = zipfile.ZipFile(io.BytesIO(_workbook({"Customers": CUSTOMERS})))
    members = {m.filename: source.read(m.filename) for m in source.infolist()}
    members["xl/workbook.xml"] = b"<workbook><sheets><sheet name='Customers' \x00\x01 garbled"
    return _zip(members)


def _write_zip_bomb(path: Path) -> None:
    """A valid one-sheet workbook whose sheet XML is 100 MB yet packs to about 100 KB.

    One cell holds a 100 MB text of a single repeated letter, the best case for deflate (about
    1,000 to 1). The sheet is streamed into the archive a block at a time, never held in memory.
    """
    template = zipfile.ZipFile(io.BytesIO(_workbook({"Data": CUSTOMERS})))
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1:A2"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>note</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    )
    tail = b"</t></is></c></row></sheetData></worksheet>"
    block = b"A" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for member in template.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if member.filename == "xl/worksheets/sheet1.xml":
                with archive.open(info, "w") as sheet:
                    sheet.write(head)
                    for _ in range(BOMB_MB):
                        sheet.write(block)
                    sheet.write(tail)
            else:
                archive.writestr(info, template.read(member.filename))


def _write_lying_zip_bomb(bomb: Path, path: Path) -> None:
    """The zip bomb with its sheet's uncompressed size understated as 2 MB in both zip headers.

    The archive check trusts the declared sizes; zipfile then stops inflating at 2 MB and fails
    the CRC check, so the bomb cannot expand, but the read has to fail with a clear message.
    """
    data = bytearray(bomb.read_bytes())
    member = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    name, declared = member.filename.encode(), struct.pack("<I", 2 * 1024 * 1024)
    local = member.header_offset  # local file header: uncompressed size at offset 22
    assert data[local : local + 4] == b"PK\x03\x04" and not member.flag_bits & 0x08
    data[local + 22 : local + 26] = declared
    central = data.find(b"PK\x01\x02" + bytes(data[local + 4 : local + 6]))
    while data[central + 46 : central + 46 + len(name)] != name:  # central directory entries
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = declared  # central header: uncompressed size at 24
    path.write_bytes(bytes(data))


def _encrypted_workbook() -> bytes | None:
    try:
        import msoffcrypto  # type: ignore[import-not-found]
        from msoffcrypto.method import ecma376_agile  # type: ignore[import-not-found]
    except ImportError:
        return None
    from msoffcrypto.method.container import ecma376_encrypted  # type: ignore[import-not-found]

    class _FixedClock(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> "_FixedClock":
            return cls(2024, 1, 1)

    rng = random.Random(7)
    ecma376_agile._random_buffer = rng.randbytes  # repeatable salts and keys
    ecma376_encrypted.datetime = _FixedClock  # repeatable container timestamps
    plain = io.BytesIO(_workbook({"Customers": CUSTOMERS}))
    out = io.BytesIO()
    msoffcrypto.OfficeFile(plain).encrypt("kaizen", out)
    return out.getvalue()


def _old_workbook() -> bytes | None:
    try:
        import xlwt  # type: ignore[import-not-found]
    except ImportError:
        return None
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Customers")
    for r, row in enumerate(CUSTOMERS):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the corpus -------------------------------------------------------------------------------


def _corpus() -> dict[str, Callable[[], bytes | None]]:
    workbook = _workbook({"Customers": CUSTOMERS})
    columns = {name: [row[i] for row in CUSTOMERS[1:]] for i, name in enumerate(CUSTOMERS[0])}
    parquet = _parquet(pa.table(columns))
    return {
        "empty.csv": lambda: b"",
        "bom_only.csv": lambda: codecs.BOM_UTF8 + b"\r\n",
        "whitespace_only.csv": lambda: b"  \n\t\n   \r\n\n",
        "header_only.csv": lambda: b"customer_id,age,plan,monthly_spend\n",
        "ragged_rows.csv": lambda: (
            b"customer_id,age,plan\n1001,34,gold\n1002,41,silver\n1003,29,bronze,extra\n"
            b"1004,52,gold\n"
        ),
        "ragged_rows_semicolon.csv": lambda: (
            b"kunde;alter;umsatz\n1001;34;72,5\n1002;41;40,0\n1003;29\n1004;52;88,0\n"
        ),
        "image_named.csv": _png,
        "pdf_named.csv": _pdf,
        "workbook_named.csv": lambda: workbook,
        "text_named.xlsx": lambda: CSV_TEXT.encode(),
        "csv_named.parquet": lambda: CSV_TEXT.encode(),
        "binary_garbage.csv": _binary_garbage,
        "duplicate_columns.csv": lambda: (
            b"id,amount,amount,region,region,amount\n1,10,11,north,n,12\n2,20,21,south,s,22\n"
        ),
        "duplicate_columns.parquet": lambda: _parquet(
            pa.Table.from_arrays(
                [pa.array([1, 2]), pa.array([10, 20]), pa.array([11, 21])],
                names=["id", "amount", "amount"],
            )
        ),
        "blank_column_name.csv": lambda: b"id,,amount, \n1,a,10,x\n2,b,20,y\n",
        "corrupt.xlsx": lambda: workbook[: len(workbook) * 6 // 10],
        "corrupt_sheet.xlsx": _corrupt_sheet,
        "broken_parts.xlsx": _broken_parts,
        "encrypted.xlsx": _encrypted_workbook,
        "zip_not_workbook.xlsx": lambda: _zip(
            {"customers.csv": CSV_TEXT.encode(), "README.txt": b"Exported customer list.\n"}
        ),
        "multi_sheet.xlsx": lambda: _workbook(
            {
                "Customers": CUSTOMERS,
                "Orders": [["order_id", "customer_id", "total"], [1, 1001, 99.5], [2, 1003, 12.0]],
                "Notes": [["note"], ["Exported from the CRM"]],
            }
        ),
        "empty_sheet.xlsx": lambda: _workbook({"Sheet1": []}),
        "header_only.xlsx": lambda: _workbook({"Customers": CUSTOMERS[:1]}),
        "stray_cells.xlsx": lambda: _workbook(
            {"Customers": [*CUSTOMERS[:3], [1003, 29, "bronze", 19.9, None, "call back"]]}
        ),
        "old_format.xls": _old_workbook,
        "xls_named.xlsx": _old_workbook,
        "unknown.docx": _docx,
        "corrupt.parquet": lambda: parquet[: len(parquet) // 2],
        "invalid.jsonl": lambda: (
            b'{"customer_id": 1001, "plan": "gold"}\n'
            b'{"customer_id": 1002, "plan": "silver"}\n'
            b'{"customer_id": 1003, "plan": "bronze"\n'
            b'{"customer_id": 1004, "plan": "gold"}\n'
        ),
        "json_not_records.json": lambda: b"[1, 2, 3]\n",
        "json_number.json": lambda: b"42\n",
        "utf16_number_line.jsonl": lambda: '{"customer_id": 1001, "plan": "gold"}\r\n42\r\n'.encode(
            "utf-16"
        ),
    }


def main() -> None:
    for name, make in _corpus().items():
        content = make()
        if content is None:
            print(f"kept    {name} (its generator's tools are not installed)")
            continue
        (HERE / name).write_bytes(content)
        print(f"wrote   {name} ({len(content):,} bytes)")
    _write_zip_bomb(HERE / "zip_bomb.xlsx")
    _write_lying_zip_bomb(HERE / "zip_bomb.xlsx", HERE / "zip_bomb_lying_sizes.xlsx")
    for name in ("zip_bomb.xlsx", "zip_bomb_lying_sizes.xlsx"):
        print(f"wrote   {name} ({(HERE / name).stat().st_size:,} bytes)")


if __name__ == "__main__":
    sys.exit(main())
