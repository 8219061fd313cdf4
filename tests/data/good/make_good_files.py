"""Writes the corpus of well-formed upload files in this folder, byte for byte the same each run.

Run from the repository root:  .venv/bin/python tests/data/good/make_good_files.py

Every file is small (well under 100 KB) and holds a table a real user would upload. The
expected contents are asserted by tests/integration/test_good_files.py; change both together.

Why latin1.csv contains byte 0x81: cp1252 and latin-1 agree on every byte from 0xA0 to 0xFF,
so a latin-1 file without bytes 0x80-0x9F decodes to the same text under cp1252 and is
(correctly) reported as cp1252. Only a byte that cp1252 leaves undefined (0x81, 0x8D, 0x8F,
0x90, 0x9D) makes latin-1 the one right answer, so the file carries one.
"""

import csv
import datetime as dt
import io
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

COLUMNS = [
    "customer_id",  # int, no missing
    "age",  # int with missing values
    "balance",  # float
    "plan",  # category: gold / silver / bronze
    "signup_date",  # ISO date
    "last_login",  # ISO date and time
    "active",  # yes / no
    "verified",  # true / false
    "name",  # text with é, ü, ö (all in cp1252)
    "notes",  # free text: commas, quotes, a quoted line break, a euro sign
]

_PLANS = ["gold", "silver", "bronze", "silver", "bronze", "bronze"]
_NAMES = [
    "Café Müller",
    "Zoë Brontë",
    "Jürgen Groß",
    "Anaïs Dupré",
    "Søren Ødegård",
    "Ana Núñez",
    "Björn Ström",
    "François Noël",
    "Ines Weiß",
    "Łukasz Nowak",  # not in cp1252: only in the Unicode encodings (replaced below for cp1252)
    "Chloé Lefèvre",
    "Ömer Çelik",
]
NOTES = {
    0: 'Said "call me later", then hung up',
    1: "Paid €5, asked for a receipt",
    2: "line one\nline two",
    3: "",
    4: "Prefers email, not phone",
    5: "Über-loyal; 10 years",
}


def customer_rows(*, cp1252_safe: bool = False) -> list[list[str]]:
    """The customers table as text cells, header first; missing values are empty strings."""
    rows = [list(COLUMNS)]
    for i in range(12):
        name = _NAMES[i]
        if cp1252_safe and name == "Łukasz Nowak":
            name = "Lukas Nowak"
        rows.append(
            [
                str(i + 1),
                "" if i in (2, 6, 9) else str(21 + 3 * i),
                f"{(i - 2) * 1234.5 + 0.25:.2f}",
                _PLANS[i % len(_PLANS)],
                (dt.date(2023, 1, 15) + dt.timedelta(days=17 * i)).isoformat(),
                (dt.datetime(2024, 3, 1, 9, 30) + dt.timedelta(hours=29 * i)).isoformat(sep=" "),
                "yes" if i % 3 else "no",
                "true" if i % 2 else "false",
                name,
                NOTES.get(i, f"Customer number {i + 1}, regular"),
            ]
        )
    return rows


def delimited(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def write_bytes(name: str, data: bytes) -> None:
    assert len(data) < 100_000, name
    (HERE / name).write_bytes(data)


def make_text_files() -> None:
    rows = customer_rows()
    write_bytes("customers.csv", delimited(rows).encode("utf-8"))
    write_bytes("utf8_bom.csv", delimited(rows).encode("utf-8-sig"))
    # Excel's "Unicode text": UTF-16 little-endian with a BOM, tab separated, .csv name.
    write_bytes("utf16.csv", delimited(rows, "\t").encode("utf-16"))
    write_bytes("cp1252.csv", delimited(customer_rows(cp1252_safe=True)).encode("cp1252"))
    write_bytes("pipe.csv", delimited(rows, "|").encode("utf-8"))
    write_bytes("data.tsv", delimited(rows, "\t").encode("utf-8"))

    latin1 = [
        ["city", "price", "remark"],
        ["Zürich", "12", "½ Preis"],
        ["Genève", "7", "© Ville"],
        ["Málaga", "9", "ctl\x81byte"],  # 0x81: undefined in cp1252, a C1 control in latin-1
        ["Ålesund", "15", "¿qué?"],
    ]
    write_bytes("latin1.csv", delimited(latin1).encode("latin-1"))

    european = [
        ["id", "price", "weight_kg", "product"],
        ["1", "1,5", "0,25", "Äpfel"],
        ["2", "12,75", "1,0", "Birnen"],
        ["3", "-3,5", "", "Kirschen, sauer"],
        ["4", "1000", "2,125", "Pflaumen"],
        ["5", "0,99", "10", "Trauben"],
    ]
    write_bytes("semicolon_decimal_comma.csv", delimited(european, ";").encode("utf-8"))

    html = [
        ["<script>alert(1)</script>", "<b>bold</b>", "plain"],
        ["<script>alert(1)</script>", "<b>bold</b>", "&lt;i&gt; &amp; stays"],
        ['<img src=x onerror="alert(2)">', "<i>it</i>", "a < b > c"],
        ["</td></tr><tr><td>", "<b>bold</b>", "{{ template }}"],
    ]
    write_bytes("html_names.csv", delimited(html).encode("utf-8"))

    one = [["score"], *([str(v)] for v in (3.5, 4.0, 2.25, 5.0, 1.75, 3.0))]
    write_bytes("one_column.csv", delimited(one).encode("utf-8"))

    unicode_names = [
        ["顧客名", "年齢", "🎉 score", "città"],
        ["山田太郎", "34", "9.5", "Tōkyō"],
        ["佐藤花子", "28", "7.25", "Ōsaka"],
        ["鈴木一郎", "45", "8", "Kyōto"],
    ]
    write_bytes("unicode_names.csv", delimited(unicode_names).encode("utf-8"))


def make_xlsx() -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "customers"
    sheet.append(["id", "age", "balance", "signup", "last_login", "active", "name", "score"])
    for i in range(8):
        signup = dt.date(2023, 1, 15) + dt.timedelta(days=31 * i)
        login = dt.datetime(2024, 3, 1, 9, 30) + dt.timedelta(hours=29 * i)
        sheet.append(
            [
                i + 1,
                None if i == 3 else 30 + i,
                round(100.5 * i - 50.25, 2),
                signup,
                login,
                i % 2 == 0,
                _NAMES[i],
                "#N/A" if i == 5 else 0.5 * i,  # "#N/A" is written as an error cell
            ]
        )
    for row in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_bytes("customers.xlsx", _fixed_zip_times(buffer.getvalue()))


def _fixed_zip_times(data: bytes) -> bytes:
    """The same archive with fixed member times and properties, so each run is byte-identical."""
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", content
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return out.getvalue()


def make_parquet() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "customer_id": pd.array(range(1, 9), dtype="int64"),
            "age": pd.array([34, None, 27, 51, None, 45, 38, 29], dtype="Int64"),
            "plan": pd.Categorical(
                ["gold", "silver", "bronze", "silver", "gold", "bronze", "bronze", "silver"],
                categories=["bronze", "silver", "gold"],
            ),
            "balance": [10.5, -2.25, 0.0, 1234.75, 99.0, 5.5, 7.125, 8.0],
            "signup": pd.to_datetime(
                ["2023-01-15", "2023-02-01", "2023-03-10", "2023-04-22"] * 2
            ).date,
            "name": _NAMES[:8],
        },
        index=pd.Index([f"row{i}" for i in range(8)], name=None),  # saved as __index_level_0__
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=True, compression="snappy")
    write_bytes("customers.parquet", buffer.getvalue())


def make_json() -> None:
    records: list[dict[str, object]] = []
    for i in range(6):
        record: dict[str, object] = {
            "id": i + 1,
            "age": None if i == 2 else 20 + 5 * i,
            "score": 0.5 + i,
            "plan": ["gold", "silver"][i % 2],
            "active": i % 2 == 0,
            "name": _NAMES[i],
            "address": {"city": ["Paris", "Köln", "Oslo"][i % 3], "geo": {"lat": 48.5 + i}},
            "tags": ["a", "b"][: i % 3],
        }
        records.append(record)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    write_bytes("customers.jsonl", lines.encode("utf-8"))

    array = [
        {"id": 1, "city": "Paris", "population": 2.1, "capital": True},
        {"id": 2, "city": "Lyon", "population": 0.5, "capital": False, "mayor": "G. Doucet"},
        {"id": 3, "city": "Köln", "population": None, "capital": False, "mayor": "H. Reker"},
    ]
    write_bytes("array.json", json.dumps(array, ensure_ascii=False, indent=1).encode("utf-8"))


def main() -> None:
    make_text_files()
    make_xlsx()
    make_parquet()
    make_json()


if __name__ == "__main__":
    main()
