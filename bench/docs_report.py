"""The PDF report of fixed example data, and its pages as PNGs for docs/ (`make docs`).

The report is built as the export builds it (the same judgement of each day, the same trend
summary and chart), from data made up here.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pypdfium2 as pdfium

from server.assessments.judgement import Thresholds, assess
from server.exports.pdf_report import PdfReport, build_pdf
from server.trends.calculations import compute_trends, with_judgements
from server.trends.chart import chart_alt_text, chart_figure

START, END = date(2026, 11, 2), date(2026, 12, 1)
# Print resolution: the PNG shows what a clinician sees on paper.
DPI = 110
# Notes in the scripts people write in: the PDF's fonts and right-to-left shaping at work.
NOTES = {
    0: "Day one, shaky. Тошнота с утра.",
    1: "吐き気がひどい。眠れない。",
    2: "恶心，睡不着",
    3: "בחילה חזקה בבוקר",
    4: "غثيان شديد في الصباح",
    12: "Threw up all day, hard to keep water down.",
}
SCORES = [(3, 4, 5, 6), (4, 5, 5, 6), (5, 5, 6, 7), (6, 6, 6, 7), (5, 5, 5, 6), (4, 4, 5, 5)]


def example_checkins() -> list[SimpleNamespace]:
    """Three weeks of check-ins from 10 November: vomiting twice, one crisis day."""
    stamp = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    checkins = []
    for offset in range(22):
        day = date(2026, 11, 10) + timedelta(days=offset)
        nausea, aches, anxiety, insomnia = SCORES[offset % len(SCORES)]
        checkins.append(
            SimpleNamespace(
                date=day,
                nausea=nausea,
                aches=aches,
                anxiety=anxiety,
                insomnia=insomnia,
                total=nausea + aches + anxiety + insomnia,
                diarrhea=None,
                vomiting=8 if offset in (12, 13) else None,
                cravings=6,
                sleep_hours=5.5,
                used_opioids=offset == 20,
                crisis=offset == 21,
                note=NOTES.get(offset),
                created_at=stamp,
                updated_at=stamp,
            )
        )
    return checkins


def example_pdf() -> bytes:
    """The report of the example data, produced on 1 December in Berlin."""
    checkins = example_checkins()
    newest_first = sorted(checkins, key=lambda c: c.date, reverse=True)
    judged = {
        c.date: assess(c, newest_first[i + 1 :], Thresholds()) for i, c in enumerate(newest_first)
    }
    latest = judged[END]
    trends = compute_trends(checkins, START, END)
    judged_days = with_judgements(trends["days"], judged)
    report = PdfReport(
        display_name="Dana",
        start=START,
        end=END,
        produced_at=datetime(2026, 12, 1, 13, 5, tzinfo=UTC),
        days_logged=len(checkins),
        days_in_range=(END - START).days + 1,
        summary=trends["summary"],
        chart=chart_figure(judged_days),
        chart_description=chart_alt_text(judged_days),
        checkins=checkins,
        include_notes=True,
        assessment={
            "level": latest.level,
            "reasons": [{"code": r.code, "message": r.message} for r in latest.reasons],
            "checkin_date": END,
        },
        timezone="Europe/Berlin",
        judgements=judged,
    )
    return build_pdf(report)


def report_page(index: int) -> bytes:
    """One page of the example report as a PNG at DPI (page 1 summary, 2 chart, 3 daily log)."""
    document = pdfium.PdfDocument(example_pdf())
    out = io.BytesIO()
    document[index].render(scale=DPI / 72).to_pil().save(out, format="PNG", optimize=True)
    return out.getvalue()
