"""Recognising what an uploaded file really is: its format, text encoding and delimiter."""

import codecs
import csv
import io
from pathlib import Path

from services.errors import InvalidInput

SAMPLE_BYTES = 256 * 1024
# Free-text cells can be long; the csv module's default 128 KiB field limit would refuse them.
csv.field_size_limit(2**31 - 1)

EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
SUPPORTED = "CSV, TSV, Excel (.xlsx), Parquet or JSON lines"

# Leading bytes of formats people upload by mistake, and what to call them in a message.
_MAGIC = [
    (b"PK\x03\x04", "zip"),
    (b"PAR1", "parquet"),
    (b"\xd0\xcf\x11\xe0", "ole"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program file"),
    (b"SQLite format 3", "a SQLite database"),
]
_DELIMITERS = [",", ";", "\t", "|"]


def read_sample(path: Path) -> bytes:
    """The first bytes of a file, enough to recognise it."""
    with path.open("rb") as handle:
        return handle.read(SAMPLE_BYTES)


def detect_format(filename: str, sample: bytes) -> str:
    """The reader to use: csv, tsv, xlsx, parquet or json; refuses files that are not tables."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls":
        raise InvalidInput(
            f"'{filename}' is an old Excel 97-2003 workbook (.xls). "
            "Open it in Excel and save it as .xlsx, or export it as CSV."
        )
    claimed = EXTENSIONS.get(suffix)
    if claimed is None:
        raise InvalidInput(
            f"'{filename}' has the extension '{suffix or '(none)'}', which Kaizen Studio cannot "
            f"read. Upload a {SUPPORTED} file."
        )
    if not sample.removeprefix(codecs.BOM_UTF8).strip():
        raise InvalidInput(f"'{filename}' is empty. Upload a file that contains a table.")
    actual = _magic_kind(sample)
    return _reconcile(filename, claimed, actual)


def _magic_kind(sample: bytes) -> str:
    for magic, kind in _MAGIC:
        if sample.startswith(magic):
            return kind
    return "text"


def _reconcile(filename: str, claimed: str, actual: str) -> str:
    if claimed == "xlsx":
        if actual == "zip":
            return "xlsx"
        if actual == "ole":
            raise InvalidInput(
                f"'{filename}' is password-protected (encrypted) or an old-style .xls workbook. "
                "Remove the password in Excel (File > Info > Protect Workbook), save as .xlsx "
                "and upload it again."
            )
        raise InvalidInput(_mismatch(filename, "an Excel workbook", actual))
    if claimed == "parquet":
        if actual == "parquet":
            return "parquet"
        raise InvalidInput(_mismatch(filename, "a Parquet file", actual))
    if actual != "text":
        raise InvalidInput(_mismatch(filename, f"a {claimed.upper()} text file", actual))
    return claimed


_TABLE_KINDS = {
    "zip": "a zip archive or Excel workbook",
    "parquet": "a Parquet file",
    "ole": "an old-style or encrypted Office document",
    "text": "plain text",
}


def _mismatch(filename: str, expected: str, actual: str) -> str:
    if actual not in _TABLE_KINDS:  # an image, a PDF, an archive: renaming it will not help
        return (
            f"'{filename}' is named like {expected} but contains {actual}, not a table. "
            f"Export the table from its program as {SUPPORTED} and upload that file."
        )
    return (
        f"'{filename}' is named like {expected} but contains {_TABLE_KINDS[actual]}. "
        "Rename the file with the extension that matches its content, or export it again."
    )


def detect_encoding(filename: str, sample: bytes) -> str:
    """The text encoding of a sample: UTF-8 (with or without BOM), UTF-16, cp1252 or latin-1."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls > len(sample) // 4 and even_nuls == 0:
        return "utf-16-le"
    if even_nuls > len(sample) // 4 and odd_nuls == 0:
        return "utf-16-be"
    if 0 in sample:
        raise _binary(filename)
    for encoding in ("utf-8", "cp1252"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


_FALLBACKS = ("utf-8", "cp1252", "latin-1")


def confirm_encoding(path: Path, sample: bytes, encoding: str) -> str:
    """`encoding` if the whole file decodes with it, else the next of cp1252 and latin-1 that does.

    The guess comes from the first SAMPLE_BYTES only: an export whose first accented letter
    comes later would otherwise be read as UTF-8 (stored as bytes) or cp1252 (a crash).
    """
    if len(sample) < SAMPLE_BYTES or sample.startswith(codecs.BOM_UTF8):
        return encoding
    if encoding not in _FALLBACKS:
        return encoding
    for candidate in _FALLBACKS[_FALLBACKS.index(encoding) :]:
        if _decodes(path, candidate):
            return candidate
    return "latin-1"  # defines every byte


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(4 * 1024 * 1024):
                decoder.decode(chunk, final=False)
        except UnicodeDecodeError:
            return False
    return True


def decode_sample(filename: str, sample: bytes, encoding: str) -> str:
    """The sample as text without a byte-order mark; refuses text that is mostly control bytes."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    text = text.lstrip("\ufeff")
    controls = sum(1 for ch in text[:20_000] if ord(ch) < 32 and ch not in "\t\r\n\f")
    if controls > max(8, len(text[:20_000]) // 100):
        raise _binary(filename)
    return text


def _binary(filename: str) -> InvalidInput:
    return InvalidInput(
        f"'{filename}' does not contain text: it looks like a binary file renamed to a text "
        f"extension. Upload the original file, or export it from its program as {SUPPORTED}."
    )


def sniff_delimiter(text: str, fmt: str) -> str:
    """The delimiter that splits the first lines into the most consistent number of fields."""
    if fmt == "tsv":
        return "\t"
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    best, best_score = ",", (0.0, 1)
    for delimiter in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        score = (counts.count(modal) / len(counts), modal)
        if modal > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def header_fields(text: str, delimiter: str) -> list[str]:
    """The column names on the first line of a delimited text."""
    first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    return [name.strip() for name in first]
