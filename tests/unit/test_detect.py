"""Format, encoding, delimiter and header detection on small in-memory samples."""

import codecs

import pytest

from services.errors import InvalidInput
from services.ingest.detect import (
    decode_sample,
    detect_encoding,
    detect_format,
    header_fields,
    sniff_delimiter,
)

TEXT = b"a,b\n1,2\n"
ZIP = b"PK\x03\x04" + b"\x00" * 20
PARQUET = b"PAR1" + b"\x00" * 20
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20


@pytest.mark.parametrize(
    ("filename", "sample", "fmt"),
    [
        ("a.csv", TEXT, "csv"),
        ("A.CSV", TEXT, "csv"),
        ("export.txt", TEXT, "csv"),
        ("a.tsv", b"a\tb\n1\t2\n", "tsv"),
        ("a.tab", b"a\tb\n", "tsv"),
        ("book.xlsx", ZIP, "xlsx"),
        ("book.XLSM", ZIP, "xlsx"),
        ("t.parquet", PARQUET, "parquet"),
        ("t.pq", PARQUET, "parquet"),
        ("r.jsonl", b'{"a": 1}\n', "json"),
        ("r.ndjson", b'{"a": 1}\n', "json"),
        ("r.json", b'[{"a": 1}]', "json"),
        ("my.data.csv", TEXT, "csv"),
        ("utf16.csv", "a,b\n".encode("utf-16"), "csv"),
    ],
)
def test_detect_format(filename: str, sample: bytes, fmt: str) -> None:
    assert detect_format(filename, sample) == fmt


@pytest.mark.parametrize(
    ("filename", "sample", "message"),
    [
        ("old.xls", OLE, "Excel 97-2003"),
        ("a.docx", ZIP, "extension '.docx'"),
        ("README", TEXT, "extension '(none)'"),
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b" \r\n\t\n", "is empty"),
        ("zip.csv", ZIP, "zip archive or Excel workbook"),
        ("doc.csv", b"%PDF-1.7\n", "a PDF document"),
        ("p.csv", PARQUET, "contains a Parquet file"),
        ("g.jsonl", b"\x1f\x8b\x08\x00", "a gzip archive"),
        ("img.tsv", b"\x89PNG\r\n\x1a\n", "a PNG image"),
        ("locked.xlsx", OLE, "password-protected"),
        ("text.xlsx", TEXT, "named like an Excel workbook but contains plain text"),
        ("text.parquet", TEXT, "named like a Parquet file but contains plain text"),
        ("zip.parquet", ZIP, "zip archive"),
    ],
)
def test_detect_format_refuses(filename: str, sample: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        detect_format(filename, sample)


@pytest.mark.parametrize(
    ("sample", "encoding"),
    [
        (b"a,b\n1,2\n", "utf-8"),
        ("name\nCafé\n".encode(), "utf-8"),
        ("name\n顧客🎉\n".encode(), "utf-8"),
        ("Café".encode()[:-1], "utf-8"),  # a sample cut inside a character is still UTF-8
        (codecs.BOM_UTF8 + "a,b\né,1\n".encode(), "utf-8"),
        ("a,b\né,1\n".encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + "a,b\n".encode("utf-16-be"), "utf-16"),
        ("a,b\n1,2\n".encode("utf-16-le"), "utf-16-le"),
        ("a,b\n1,2\n".encode("utf-16-be"), "utf-16-be"),
        ("Café, 5 €, Müller\n".encode("cp1252"), "cp1252"),
        ("\u201cquoted\u201d \u2013 dash\n".encode("cp1252"), "cp1252"),
        # latin-1 text without bytes 0x80-0x9F decodes identically as cp1252
        ("Zürich ½\n".encode("latin-1"), "cp1252"),
        # 0x81 is undefined in cp1252: only latin-1 reads it
        (b"ctl\x81byte\n", "latin-1"),
        (b"a\x8d\x8f\x90\x9d\n", "latin-1"),
    ],
)
def test_detect_encoding(sample: bytes, encoding: str) -> None:
    assert detect_encoding("f.csv", sample) == encoding


@pytest.mark.parametrize(
    "sample",
    [
        bytes(range(256)) * 4,
        b"a,b\n1,\x00\n",
        b"\x00\x00\x00\x01abc",
    ],
)
def test_detect_encoding_refuses_binary(sample: bytes) -> None:
    with pytest.raises(InvalidInput, match="does not contain text"):
        detect_encoding("f.csv", sample)


@pytest.mark.parametrize(
    ("sample", "encoding", "text"),
    [
        (codecs.BOM_UTF8 + b"a,b\n", "utf-8", "a,b\n"),
        ("a,b\n".encode("utf-16"), "utf-16", "a,b\n"),
        ("é\n".encode("cp1252"), "cp1252", "é\n"),
        (b"x\x81\n", "latin-1", "x\x81\n"),
    ],
)
def test_decode_sample(sample: bytes, encoding: str, text: str) -> None:
    assert decode_sample("f.csv", sample, encoding) == text


def test_decode_sample_refuses_control_bytes() -> None:
    with pytest.raises(InvalidInput, match="does not contain text"):
        decode_sample("f.csv", bytes(range(1, 32)) * 10, "utf-8")


@pytest.mark.parametrize(
    ("text", "fmt", "delimiter"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", "csv", ","),
        ("a;b;c\n1;2;3\n", "csv", ";"),
        ("a\tb\tc\n1\t2\t3\n", "csv", "\t"),
        ("a|b|c\n1|2|3\n", "csv", "|"),
        ("a,b\n1,2\n", "tsv", "\t"),  # a .tsv is tab-separated whatever it looks like
        ("score\n1.5\n2.5\n", "csv", ","),  # one column: the default
        ("id;price\n1;1,5\n2;12,75\n3;-3,5\n", "csv", ";"),  # decimal commas
        ('name;note\n"Doe, J.";"a, b, c"\n"Roe, R.";"d, e"\n', "csv", ";"),
        ('a,b,c\n1,"x;y;z",3\n4,"p;q",6\n', "csv", ","),
        ('a,b\n"line\none",2\n3,4\n', "csv", ","),  # a quoted line break
        ("a,b,c\n1,2,3\n4,5", "csv", ","),  # the last line of a sample may be cut
        ("a|b\r\n1|2\r\n", "csv", "|"),
        ("a\tb,c\n1\t2,3\n4\t5,6\n", "csv", ","),  # a tie: the first listed wins
    ],
)
def test_sniff_delimiter(text: str, fmt: str, delimiter: str) -> None:
    assert sniff_delimiter(text, fmt) == delimiter


@pytest.mark.parametrize(
    ("text", "delimiter", "fields"),
    [
        ("a,b,c\n1,2,3\n", ",", ["a", "b", "c"]),
        (" a , b \n", ",", ["a", "b"]),
        ('"x,y",z\n', ",", ["x,y", "z"]),
        ('"say ""hi""",b\n', ",", ['say "hi"', "b"]),
        ('"multi\nline",b\n1,2\n', ",", ["multi\nline", "b"]),
        ("a;b\n", ";", ["a", "b"]),
        ("a\tb", "\t", ["a", "b"]),
        ("顧客名,🎉 score\n", ",", ["顧客名", "🎉 score"]),
        ("a,,c\n", ",", ["a", "", "c"]),
        ("", ",", []),
    ],
)
def test_header_fields(text: str, delimiter: str, fields: list[str]) -> None:
    assert header_fields(text, delimiter) == fields
