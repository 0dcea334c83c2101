"""Cells that a spreadsheet will not run: every CSV and XLSX the platform writes goes through here.

A resident can name herself `=HYPERLINK("http://…")`; a title can start with `+cmd|…`. Excel and
LibreOffice run such a cell as a formula when a CSV is opened, and openpyxl stores any string that
starts with `=` as a live formula. So CSV cells that start with `= + - @`, a tab or a carriage return
get a leading apostrophe (shown as text, the apostrophe hidden), and XLSX cells are stored as strings.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """The value as a CSV cell that no spreadsheet evaluates (numbers and dates pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]


def append_row(ws, values) -> None:
    """Append a row to an openpyxl sheet with every string stored as text, never as a formula."""
    ws.append(list(values))
    for cell in ws[ws.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"
