"""Pure ETL stages: mapping, validation, golden ids, survivorship, generator. No driver."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from etl.er_report import pairwise_score
from etl.extracts import (
    ExtractError,
    Scan,
    check_manifest,
    read_manifest,
    scan_csv,
    shrunk_files,
)
from etl.identity import customer_id_for, golden_records, load_identity_config
from etl.mapping import MappingError, apply_mapping, load_mapping, parse_mapping
from etl.normalise import national_id_hash, national_id_valid, phone_e164
from etl.sources import read_chunks
from etl.validation import first_reason, validate
from synthetic import GenerateOptions, generate_bank
from synthetic.pools import national_id, national_id_with, unique_national_id

TODAY = dt.date(2026, 11, 1)
CFG = load_identity_config()


def raw(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype=object)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


# -- mapping --------------------------------------------------------------------------------
def test_card_mapping_renames_decodes_and_converts_fen_to_yuan() -> None:
    m = load_mapping("card").entities["accounts"]
    frame, errors = apply_mapping(
        raw(
            [
                {
                    "card_acct_no": "CC1", "card_product": "CC-GOLD", "ccy": "CNY",
                    "balance_fen": "123456", "limit_fen": "5000000", "open_date": "20240131",
                    "expiry_date": "", "close_date": "", "acct_state": "C",
                    "stmt_hist_fen": "100;200;300", "stmt_hist_end": "20261031",
                }
            ]
        ),
        m,
    )  # fmt: skip
    assert errors == {}
    row = frame.iloc[0]
    assert row["account_id"] == "CC1" and row["product_type"] == "CREDIT_CARD"
    assert row["balance"] == 1234.56 and row["credit_limit"] == 50000.0
    assert row["status"] == "CLOSED" and row["opened_at"] == dt.date(2024, 1, 31)
    assert row["monthly_balances"] == [1.0, 2.0, 3.0] and row["maturity_date"] is None


@pytest.mark.parametrize("bad", ["inf", "-Infinity", "nan", "NaN"])
def test_a_number_that_is_no_finite_number_is_refused_not_kept(bad: str) -> None:
    """pandas reads "inf" and "nan" as numbers; an amount or a list of them holding one is
    refused as ``wrong_type`` (content hashes write non-finite floats as null: etl/delta.py)."""
    m = load_mapping("card").entities["accounts"]
    good = {
        "card_acct_no": "CC1", "card_product": "CC-GOLD", "ccy": "CNY", "balance_fen": "1",
        "limit_fen": "5000000", "open_date": "20240131", "expiry_date": "", "close_date": "",
        "acct_state": "C", "stmt_hist_fen": "100;200;300", "stmt_hist_end": "20261031",
    }  # fmt: skip
    rows = [good, good | {"limit_fen": bad}, good | {"stmt_hist_fen": f"100;{bad};300"}]
    frame, errors = apply_mapping(raw(rows), m)
    assert sorted(errors) == [2, 3], "the good row is kept, each bad one refused"
    assert [e[0][0] for e in (errors[2], errors[3])] == ["wrong_type", "wrong_type"]
    assert "credit_limit" in errors[2][0][1] and "monthly_balances" in errors[3][0][1]
    assert frame.iloc[1]["credit_limit"] is None and frame.iloc[2]["monthly_balances"] is None


def test_core_mapping_decodes_gender_and_localises_datetimes_to_utc() -> None:
    m = load_mapping("core").entities["customers"]
    rows = [{c: "" for c in m.columns}]
    rows[0] |= {
        "cust_no": "CIF1",
        "cust_name": "张伟",
        "gender": "女",
        "last_upd": "2026-01-02 08:00:00",
    }
    frame, errors = apply_mapping(raw(rows), m)
    assert errors == {}
    assert frame.iloc[0]["gender"] == "F"
    assert frame.iloc[0]["updated_at"] == dt.datetime(2026, 1, 2, 0, 0, tzinfo=dt.UTC)


def test_parse_errors_are_reported_per_row_not_per_chunk() -> None:
    m = load_mapping("crm").entities["interactions"]
    base = {c: None for c in m.columns} | {
        "interaction_no": "I1", "contact_id": "CRM1", "channel": "APP", "kind": "SERVICE",
        "occurred": "01/02/2026 10:00", "csat": "4",
    }  # fmt: skip
    frame, errors = apply_mapping(
        raw([base, base | {"occurred": "01/13/2026 10:00"}, base | {"csat": "five"}]), m
    )
    assert 1 not in errors
    assert errors[2][0][0] == "bad_date" and errors[3][0][0] == "wrong_type"


def test_custom_mapping_with_unknown_target_column_is_refused() -> None:
    with pytest.raises(MappingError):
        parse_mapping("system: x\nentities:\n  customers:\n    columns: {a: not_a_column}\n")


def test_extract_missing_a_mapped_column_is_a_file_level_error() -> None:
    m = load_mapping("core").entities["branches"]
    with pytest.raises(MappingError):
        apply_mapping(raw([{"branch_code": "B1"}]), m)


def test_cells_are_stripped_and_blanks_become_none_on_the_chunk_rows() -> None:
    m = load_mapping("core").entities["branches"]
    chunk = pd.DataFrame(
        {
            "branch_code": ["  B1 ", "B2", "B3", "B4"],
            "branch_name": ["North", "   ", "", None],
            "city": [float("nan"), pd.NA, " 上海 ", "Beijing"],
        },
        index=pd.RangeIndex(5001, 5005),  # a later chunk of the file: rows keep their numbers
        dtype=object,
    )
    frame, errors = apply_mapping(chunk, m)
    assert errors == {}
    assert list(frame.index) == [5001, 5002, 5003, 5004]
    assert frame.to_dict("records") == [
        {"branch_id": "B1", "name": "North", "city": None},
        {"branch_id": "B2", "name": None, "city": None},
        {"branch_id": "B3", "name": None, "city": "上海"},
        {"branch_id": "B4", "name": None, "city": "Beijing"},
    ]


# -- validation ------------------------------------------------------------------------------
def _customer(**kw: object) -> dict:
    row = {
        "cust_no": "CIF1", "cust_name": "张伟", "gender": "男", "birth_dt": "1980-05-17",
        "id_no": "110105198005170011", "mobile": "+86 138-1234-5678", "email": "a@b.cn",
        "addr": "上海", "city": "上海", "occupation": "", "segment": "RETAIL", "kyc_status": "",
        "risk_level": "", "open_dt": "2020-01-01", "cust_status": "ACTIVE",
        "last_upd": "2025-01-01 10:00:00",
    }  # fmt: skip
    # a valid check character for the ID above
    body = row["id_no"][:17]
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    row["id_no"] = (
        body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    )
    return row | kw


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"birth_dt": "1980-13-17"}, "bad_date"),
        ({"birth_dt": "1849-12-31"}, "impossible_age"),
        ({"birth_dt": "2030-01-01"}, "impossible_age"),
        ({"mobile": "138-12"}, "malformed_phone"),
        ({"cust_name": "张\ufffd"}, "broken_encoding"),
        ({"cust_name": ""}, "missing_required"),
        ({"segment": "VIP"}, "invalid_code"),
        ({"id_no": "110105198005170019X"}, "malformed_id"),
    ],
)
def test_each_bad_customer_kind_is_refused_with_its_reason(change: dict, kind: str) -> None:
    m = load_mapping("core").entities["customers"]
    frame, parse_errors = apply_mapping(raw([_customer(), _customer(cust_no="CIF2", **change)]), m)
    good, errors = validate(frame, "customers", parse_errors=parse_errors, today=TODAY)
    assert list(good["source_id"]) == ["CIF1"], "the good neighbour is kept"
    assert first_reason(errors[2])[0] == kind


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"bal": "-1.00"}, "negative_amount"),
        ({"bal": "12,5OO"}, "wrong_type"),
        ({"prod_type": ""}, "missing_required"),
        ({"open_dt": "2021-02-30"}, "bad_date"),
        ({"bal_hist": "1|x|3"}, "wrong_type"),
        ({"bal_hist": "1|-2|3"}, "negative_amount"),
    ],
)
def test_each_bad_account_kind_is_refused_with_its_reason(change: dict, kind: str) -> None:
    m = load_mapping("core").entities["accounts"]
    ok = {
        "acct_no": "A1", "prod_code": "SAV-STD", "prod_type": "SAVINGS", "ccy": "CNY",
        "bal": "10.00", "credit_limit": "", "open_dt": "2020-01-01", "mat_dt": "", "close_dt": "",
        "acct_status": "OPEN", "bal_hist": "1|2|3", "bal_hist_end": "2026-10-31",
    }  # fmt: skip
    frame, parse_errors = apply_mapping(raw([ok, ok | {"acct_no": "A2"} | change]), m)
    good, errors = validate(frame, "accounts", parse_errors=parse_errors, today=TODAY)
    assert list(good["account_id"]) == ["A1"]
    assert first_reason(errors[2])[0] == kind


def test_phone_formats_normalise_to_e164() -> None:
    for text in ("+86 138-1234-5678", "138 1234 5678", "86-13812345678", "13812345678"):
        assert phone_e164(text, "CN") == "+8613812345678"
    assert phone_e164("138-12", "CN") is None and phone_e164("12345678901", "CN") is None


def test_national_id_hash_is_peppered_and_check_digit_verified() -> None:
    ident = _customer()["id_no"]
    assert national_id_valid(ident) and not national_id_valid(
        ident[:-1] + "0" if ident[-1] != "0" else ident[:-1] + "1"
    )
    assert national_id_hash(ident, "a") != national_id_hash(ident, "b")
    assert national_id_hash(ident, "a") == hashlib.sha256(("a" + ident).encode()).hexdigest()


# -- identity resolution ----------------------------------------------------------------------
def test_golden_id_is_the_core_cif_and_a_known_customer_wins() -> None:
    # pairing records is etl/linkage.py's (tests/test_linkage_units.py); naming is this
    assert customer_id_for("core", "CIF7", [], CFG) == "C-CIF7"
    assert customer_id_for("crm", "CRM5", [], CFG) == "C-crm-CRM5"
    assert customer_id_for("crm", "CRM5", ["C-OLD"], CFG) == "C-OLD"


def test_survivorship_core_wins_identity_recent_wins_contact_crm_wins_occupation() -> None:
    t = lambda d: pd.Timestamp(d, tz="UTC")  # noqa: E731
    frame = pd.DataFrame(
        [
            {"customer_id": "C1", "system": "core", "name": "张伟", "phone": "13800000001",
             "address": "旧址", "occupation": "工程师", "segment": "RETAIL", "updated_at": t("2024-01-01")},
            {"customer_id": "C1", "system": "crm", "name": "張偉", "phone": None,
             "address": "新址", "occupation": "教师", "segment": None, "updated_at": t("2026-01-01")},
            {"customer_id": "C1", "system": "card", "name": "张玮", "phone": "13900000002",
             "address": None, "occupation": None, "segment": "SME", "updated_at": t("2025-01-01")},
        ]
    )  # fmt: skip
    for col in ("gender", "birth_date", "national_id_hash", "national_id_last4",
                "national_id_type", "national_id_country", "email", "city",
                "kyc_status", "risk_rating", "onboarded_at", "status"):  # fmt: skip
        frame[col] = None
    g = golden_records(frame, CFG).iloc[0]
    assert g["name"] == "张伟" and g["segment"] == "RETAIL"  # core first
    assert g["address"] == "新址" and g["phone"] == "13900000002"  # latest non-empty
    assert g["occupation"] == "教师"  # crm first for occupation
    assert g["updated_at"] == t("2026-01-01")


def test_pairwise_precision_recall() -> None:
    pred = pd.DataFrame(
        {"system": list("aabc"), "source_id": list("1212"), "customer_id": list("XXXY")}
    )
    truth = pd.DataFrame(
        {"system": list("aabc"), "source_id": list("1212"), "person_id": list("PPQQ")}
    )
    s = pairwise_score(pred, truth)
    assert (s.true_pairs, s.predicted_pairs, s.true_positives) == (2, 3, 1)
    assert s.precision == pytest.approx(1 / 3) and s.recall == 0.5


# -- generator --------------------------------------------------------------------------------
def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.csv"))
    }


def test_generator_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    a = generate_bank(GenerateOptions(customers=150, seed=3, out=tmp_path / "a", chunk_size=50))
    generate_bank(GenerateOptions(customers=150, seed=3, out=tmp_path / "b", chunk_size=50))
    generate_bank(GenerateOptions(customers=150, seed=4, out=tmp_path / "c", chunk_size=50))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")
    assert a["core/customers"] > 150 and a["card/accounts"] > 0
    scenarios = pd.read_csv(tmp_path / "a" / "ground_truth" / "scenarios.csv", dtype=str)
    core_ids = set(pd.read_csv(tmp_path / "a" / "core" / "customers.csv", dtype=str)["cust_no"])
    assert set(scenarios["core_source_id"]) <= core_ids


def test_a_resident_id_already_issued_gives_the_next_free_one_of_the_same_gender() -> None:
    # the generator draws IDs at random from region x birth date x sequence: at a million
    # people about 2,900 pairs drew the same one, which no real bank has (an ID is one
    # person's) and which identity resolution rightly merges
    issued: set[str] = set()
    first = unique_national_id(national_id(random.Random(1), dt.date(1980, 5, 1), "M"), issued)
    again = unique_national_id(first, issued)
    third = unique_national_id(first, issued)
    assert len({first, again, third}) == 3 and issued == {first, again, third}
    for nid in (first, again, third):
        assert national_id_valid(nid)  # our validator: the GB 11643 check character
        assert nid[:14] == first[:14] and int(nid[14:17]) % 2 == 1  # region, date; male
    # the sequence wraps within its three digits
    wrapped = unique_national_id(first[:14] + "999" + "X", {national_id_with(first[:14] + "999")})
    assert wrapped[:17] == first[:14] + "001" and national_id_valid(wrapped)


def test_no_two_generated_people_share_a_resident_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 3,000 people born on 3 days: 12,000 IDs per gender (8 regions x 500 sequence numbers)
    # for about 1,500 people each, so random draws collide (about 90 pairs)
    import synthetic.bank as bank

    real = bank.make_person

    def narrow(rng: random.Random, pools: Any, index: int, as_of: dt.date) -> Any:
        person = real(rng, pools, index, as_of)
        person.birth = dt.date(1980, 1, 1 + index % 3)
        person.national_id = national_id(rng, person.birth, person.gender)
        return person

    monkeypatch.setattr(bank, "make_person", narrow)
    generate_bank(GenerateOptions(customers=3000, seed=5, out=tmp_path, chunk_size=1000))
    people = pd.read_csv(tmp_path / "ground_truth" / "identities.csv", dtype=str)
    core = pd.read_csv(tmp_path / "core" / "customers.csv", dtype=str, encoding_errors="replace")
    good = core[core["cust_no"].isin(set(people.loc[people["system"] == "core", "source_id"]))]
    good = good.drop_duplicates("cust_no")  # the planted duplicate_key rows come later
    assert len(good) == 3000 and good["id_no"].map(national_id_valid).all()
    assert good["id_no"].nunique() == 3000


# -- extract checks (etl/extracts.py) -----------------------------------------------------------
HEADER = b"id,name,city\n"
NAME = "core/customers.csv"


def _extract(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "customers.csv"
    path.write_bytes(data)
    return path


def test_scan_counts_the_rows_of_a_complete_file_even_without_a_final_newline(
    tmp_path: Path,
) -> None:
    data = HEADER + b'1,"Li, Wei",Beijing\n\n2,"say ""hi""\nthere",Shanghai\n3,Wang,Xi\'an'
    found = scan_csv(_extract(tmp_path, data), NAME, digest=True)
    assert (found.rows, found.columns) == (3, ("id", "name", "city"))
    assert found.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("tail", "what"),
    [
        (b"3,Wang", "its last row (line 4) has 2 of the header's 3 fields and no final newline"),
        (b'3,"Wang\nXi', "the quoted field of its last row (line 5) is never closed"),
        (b'3,Wang,"Xi\n', "the quoted field of its last row (line 4) is never closed"),
    ],
)
def test_scan_refuses_a_file_whose_last_row_is_cut(tmp_path: Path, tail: bytes, what: str) -> None:
    path = _extract(tmp_path, HEADER + b"1,Li,Beijing\n2,Zhao,Wuhan\n" + tail)
    with pytest.raises(ExtractError) as cut:
        scan_csv(path, NAME)
    said = str(cut.value)
    assert said.startswith(f"{NAME} is cut off: ") and what in said and "(3 rows read)" in said


def test_scan_names_the_line_of_a_row_with_more_fields_than_the_header(tmp_path: Path) -> None:
    path = _extract(tmp_path, HEADER + b"1,Li,Beijing\n2,Zhao,Wu,han\n3,Wang,Xian\n")
    with pytest.raises(ExtractError, match=f"^{NAME}, line 3: 4 fields where the header has 3"):
        scan_csv(path, NAME)


def test_scan_refuses_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match=f"^{NAME} is empty"):
        scan_csv(_extract(tmp_path, b""), NAME)


def test_scan_recognises_a_gbk_file_and_names_its_first_bad_byte(tmp_path: Path) -> None:
    data = ("id,name,city\n" + "".join(f"{k},王{k},北京\n" for k in range(5))).encode("gbk")
    path = _extract(tmp_path, data)
    offset = data.index("王".encode("gbk"))
    with pytest.raises(ExtractError) as wrong:
        scan_csv(path, NAME)
    said = str(wrong.value)
    assert said.startswith(f"{NAME} is not UTF-8: 5 of its 5 lines with non-ASCII bytes do not")
    assert f"byte 0x{data[offset]:02x} at offset {offset}, line 2)" in said
    assert "iconv -f GB18030 -t UTF-8" in said
    assert scan_csv(path, NAME, encoding="gb18030").rows == 5  # as `encoding:` in a mapping says


def test_scan_takes_a_few_undecodable_rows_for_rows_to_reject(tmp_path: Path) -> None:
    rows = "".join(f"{k},王{k},北京\n" for k in range(10)).encode()
    path = _extract(tmp_path, HEADER + rows + b"10,\xe5\xbc,X\n")
    assert scan_csv(path, NAME).rows == 11


def test_a_mapping_reads_an_extract_in_the_encoding_it_names(tmp_path: Path) -> None:
    mapping = "system: legacy\nencoding: gb18030\nentities:\n  branches:\n    columns: {code: branch_id, name: name}\n"
    em = parse_mapping(mapping).entities["branches"]
    path = tmp_path / "branches.csv"
    path.write_bytes("code,name\nB1,北京分行\n".encode("gbk"))
    assert next(read_chunks(path, 10, encoding=em.encoding)).loc[1, "name"] == "北京分行"
    with pytest.raises(MappingError, match="unknown encoding 'klingon'"):
        parse_mapping(mapping.replace("gb18030", "klingon"))
    path.write_bytes(b"")
    with pytest.raises(ExtractError, match="^legacy/branches.csv cannot be read"):
        next(read_chunks(path, 10, name="legacy/branches.csv"))


def test_a_manifest_vouches_for_the_rows_and_bytes_of_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "core"
    folder.mkdir()
    path = folder / "customers.csv"
    path.write_bytes(HEADER + b"1,Li,Beijing\n2,Zhao,Wuhan\n")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps({"customers.csv": {"rows": 2, "sha256": sha}}))
    manifest = read_manifest(folder, "core")
    assert manifest is not None
    scans = {"customers.csv": scan_csv(path, NAME, digest=True)}
    check_manifest(folder, "core", manifest, scans)
    for entry, said in (
        ({"rows": 3}, f"{NAME} has 2 rows, core/manifest.json says 3"),
        ({"sha256": "0" * 64}, f"{NAME} has sha256 {sha}, core/manifest.json says {'0' * 64}"),
    ):
        with pytest.raises(ExtractError) as mismatch:
            check_manifest(folder, "core", {"customers.csv": entry}, scans)
        assert str(mismatch.value).startswith(said)
    with pytest.raises(ExtractError, match="^core/accounts.csv is listed in core/manifest.json"):
        check_manifest(folder, "core", {"accounts.csv": {"rows": 1}}, scans)
    (folder / "manifest.json").write_text('{"customers.csv": {"rows": "two"}}')
    with pytest.raises(ExtractError, match="rows of customers.csv must be a whole number"):
        read_manifest(folder, "core")


def test_only_a_file_far_shorter_than_its_previous_load_is_named() -> None:
    scans = [
        Scan("core/customers.csv", 600, ()),
        Scan("core/accounts.csv", 950, ()),
        Scan("card/customers.csv", 1200, ()),
        Scan("crm/customers.csv", 10, ()),
    ]
    previous = {
        "core/customers.csv": (1000, "R1"),
        "core/accounts.csv": (1000, "R1"),
        "card/customers.csv": (1000, "R2"),
    }
    assert shrunk_files(scans, previous, 0.1) == [
        "core/customers.csv has 600 rows, its previous load (run R1) had 1,000: 40% fewer"
    ]
    assert shrunk_files(scans, previous, 0.5) == []


def test_a_whole_number_beyond_64_bits_is_refused_not_kept() -> None:
    """ "1e300" is a whole number to pandas; Neo4j's integers (and the content hash's) are 64-bit:
    the row is refused as ``wrong_type`` naming the column, the good row kept."""
    m = load_mapping("crm").entities["interactions"]
    assert "nps" in m.columns.values()
    col = next(k for k, v in m.columns.items() if v == "nps")
    rows = [{c: "" for c in m.columns}, {c: "" for c in m.columns}]
    rows[0][col], rows[1][col] = "7", "1e300"
    frame, errors = apply_mapping(raw(rows), m)
    # errors by row number (1 = the first row)
    assert ("wrong_type", "nps is beyond a 64-bit integer: '1e300'") in errors[2]
    assert frame.iloc[0]["nps"] == 7 and frame.iloc[1]["nps"] is None
    assert not [e for e in errors.get(1, []) if "nps" in e[1]]
