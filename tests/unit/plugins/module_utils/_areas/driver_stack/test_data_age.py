"""Data that goes stale (issue 20): the compatibility tables carry their source and date, and are judged by age."""

import datetime

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import cuda, cuda_data


def test_every_table_carries_its_source_and_the_month_it_was_checked():
    assert [t[0] for t in cuda_data.TABLES] == ["cuda", "rocm"]
    for table, what, source, checked in cuda_data.TABLES:
        assert what and source.startswith(("NVIDIA", "AMD")) and "https://" in source, table
        datetime.datetime.strptime(checked, "%Y-%m")  # a year-month, or this raises


TABLES = (("cuda", "CUDA toolkit to minimum NVIDIA driver", "NVIDIA notes, https://n.example", "2026-11"),)


def test_six_months_old_is_ok_seven_is_warn_with_the_date_and_the_fix():
    ok = cuda.data_age_checks(datetime.date(2027, 5, 31), TABLES)
    assert [(c["check"], c["status"], c["value"], c["threshold"], c["subject"]) for c in ok] == [
        ("compatibility_data_age", "ok", "2026-11", "6 months", {"table": "cuda"})]
    assert ok[0]["message"] == ("the collection's CUDA toolkit to minimum NVIDIA driver table was checked against its "
                                "source in 2026-11, 6 month(s) ago (NVIDIA notes, https://n.example)")
    stale = cuda.data_age_checks(datetime.date(2027, 6, 1), TABLES)
    assert [(c["status"], c["value"]) for c in stale] == [("warn", "2026-11")]
    assert "7 month(s) ago" in stale[0]["message"]
    assert stale[0]["message"].endswith(": update the collection (ansible-galaxy collection install --upgrade "
                                        "gpufleet.maintenance): its compatibility tables are older than the releases since")


def test_the_shipped_tables_on_the_day_they_were_checked_and_a_year_later():
    assert [c["status"] for c in cuda.data_age_checks(datetime.date(2026, 11, 30))] == ["ok", "ok"]
    assert [c["status"] for c in cuda.data_age_checks(datetime.date(2027, 11, 1))] == ["warn", "warn"]
