"""The demonstration-zone workbench: the three-level catalogue (basic tasks → indicators → acceptance
standards) a city loads each year, each standard's status and who answers for it, the responsible
units, the problem ledger (问题台账), the work archive (创建工作档案) and the self-check report (自查报告).

See docs/acceptance.md for the rules this package implements.
"""
