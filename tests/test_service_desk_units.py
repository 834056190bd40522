"""The service desk's pure parts, without a driver: the lifecycle table, the taxonomy file, the
masks of free text, the satisfaction summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from auth.masking import mask_free_text
from core.complaints import ComplaintStatus, Step, derived_status, next_status
from core.errors import BadUserInput
from core.settings import Settings
from core.taxonomy import TaxonomyFileError, load_taxonomy
from resolvers.satisfaction import summarise

S = ComplaintStatus


@pytest.mark.parametrize(
    ("step", "allowed"),
    [
        (Step.ACKNOWLEDGE, {S.OPEN, S.REOPENED}),
        (Step.PROGRESS, {S.ACKNOWLEDGED, S.IN_PROGRESS}),
        (Step.RESOLVE, {S.OPEN, S.ACKNOWLEDGED, S.IN_PROGRESS, S.REOPENED}),
        (Step.CLOSE, {S.RESOLVED}),
        (Step.REOPEN, {S.RESOLVED, S.CLOSED}),
    ],
)
def test_each_step_from_each_status(step, allowed):
    for status in ComplaintStatus:
        if status in allowed:
            next_status(step, status.value, "I-1")
        else:
            with pytest.raises(BadUserInput, match=f"I-1 is {status.value}: {step.value}"):
                next_status(step, status.value, "I-1")


def test_status_of_an_item_loaded_without_one():
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert derived_status(status=None, first_response_at=None, resolved_at=None) is S.OPEN
    assert derived_status(status=None, first_response_at=t, resolved_at=None) is S.ACKNOWLEDGED
    assert derived_status(status=None, first_response_at=t, resolved_at=t) is S.RESOLVED
    assert derived_status(status="CLOSED", first_response_at=t, resolved_at=t) is S.CLOSED


def test_the_taxonomy_file_and_its_checks(tmp_path: Path):
    taxonomy = load_taxonomy(Settings().complaint_taxonomy_file)
    card = taxonomy.category("CARD")
    assert card is not None and card.label == "银行卡" and card.label_en == "Cards"
    taxonomy.check("CARD", "SYSTEM", "OUTAGE")
    taxonomy.check("CARD", "SYSTEM", None)
    with pytest.raises(BadUserInput, match="category 'NOPE'"):
        taxonomy.check("NOPE", "SYSTEM", None)
    with pytest.raises(BadUserInput, match="causeType 'SYSTEM' is not a cause of category SERVICE"):
        taxonomy.check("SERVICE", "SYSTEM", None)
    with pytest.raises(BadUserInput, match="causeSubtype 'FEE'"):
        taxonomy.check("CARD", "SYSTEM", "FEE")
    broken = tmp_path / "taxonomy.toml"
    broken.write_text('[categories.X]\nlabel = "x"\nlabel_en = "x"\ncauses = ["GHOST"]\n[causes]\n')
    with pytest.raises(TaxonomyFileError, match=r"categories.X.causes names undefined causes"):
        load_taxonomy(broken)


PERSON = {"name": "张伟", "phone": "+8613812345678", "email": "zhang.wei@example.com",
          "address": "上海市浦东新区世纪大道100号", "city": "上海", "national_id_last4": "1234"}  # fmt: skip


def test_free_text_keeps_no_contact_data_for_a_masking_view():
    text = (
        "张伟来电: 13812345678, 备用 +86 139-1234-5678, zhang.wei@example.com, "
        "a.b@corp.example.cn, 地址 上海市浦东新区世纪大道100号, 身份证尾号 1234, 卡 6222020202020202"
    )
    masked = mask_free_text(text, PERSON, mask_names=False)
    for raw in ("13812345678", "139-1234-5678", "zhang.wei@", "a.b@", "世纪大道", " 1234,",
                "6222020202020202"):  # fmt: skip
        assert raw not in masked, raw
    assert "138****5678" in masked and "z***@example.com" in masked and "张伟" in masked
    assert mask_free_text(text, PERSON, mask_names=True).startswith("张*来电")
    assert mask_free_text("退费 200 元, 3 天内", PERSON, mask_names=True) == "退费 200 元, 3 天内"


def test_satisfaction_windows_and_trend():
    today = dt.date(2026, 11, 30)

    def at(days: int) -> dt.datetime:
        return dt.datetime.combine(today - dt.timedelta(days=days), dt.time(9), tzinfo=dt.UTC)

    scored = [
        {"csat": 2, "nps": 3, "channel": "APP", "at": at(1)},
        {"csat": 3, "nps": None, "channel": "BRANCH", "at": at(181)},  # within 182 days
        {"csat": 5, "nps": None, "channel": "BRANCH", "at": at(182)},  # the 6 months before
        {"csat": 4, "nps": None, "channel": "PHONE", "at": at(364)},
        {"csat": 1, "nps": None, "channel": "PHONE", "at": at(365)},  # beyond both windows
        {"csat": None, "nps": 9, "channel": "APP", "at": at(2)},  # NPS only: no csat average
    ]
    got = summarise(scored, None, today, drop=1.0)
    assert (got["average_6m"], got["average_previous_6m"], got["trend"]) == (2.5, 4.5, "DOWN")
    assert got["by_channel"] == [
        {"channel": "APP", "average": 2.0, "count": 1},
        {"channel": "BRANCH", "average": 4.0, "count": 2},
        {"channel": "PHONE", "average": 4.0, "count": 1},
    ]
    assert summarise(scored[:2], None, today, drop=1.0)["trend"] is None  # no earlier window
    flat = [{"csat": 4, "nps": None, "channel": "APP", "at": at(d)} for d in (3, 200)]
    assert summarise(flat, None, today, drop=1.0)["trend"] == "FLAT"
