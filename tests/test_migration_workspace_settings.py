"""0011: a workspace's language and currency, and each deal's value currency; down and up again keeps them."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import inspect

from storage.db import make_engine
from tests.test_migrations import migrate_to

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _rows(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def test_languages_and_currencies_survive_a_downgrade_and_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate_to(engine, "0011")
        with engine.begin() as connection:
            for number, currency in ((1, "EUR"), (2, None), (3, "EUR")):
                connection.execute(
                    sa.text(
                        "insert into deal (team_id, number, name, owner_id, value_cents, value_currency, stage_key,"
                        " status, channel_id, created_at, stage_entered_at) values ('T1', :number, 'Deal', 'U1',"
                        " 100, :currency, 'meeting-booked', 'open', 'C1', :at, :at)"
                    ),
                    {"number": number, "currency": currency, "at": AT},
                )
            connection.execute(
                sa.text(
                    "insert into workspace_setting (team_id, language, currency, language_changed_by,"
                    " language_changed_at) values ('T1', 'sv', 'EUR', 'U_MGR', :at)"
                ),
                {"at": AT},
            )

        migrate_to(engine, "0010", downgrade=True)
        tables = inspect(engine)
        assert "workspace_setting" not in tables.get_table_names()
        assert "value_currency" not in {column["name"] for column in tables.get_columns("deal")}
        assert _rows(engine, "select count(*) from deal") == [(3,)]

        migrate_to(engine, "0011")
        assert _rows(engine, "select number, value_currency from deal order by number") == [
            (1, "EUR"),
            (2, None),
            (3, "EUR"),
        ]
        assert _rows(engine, "select team_id, language, currency, language_changed_by from workspace_setting") == [
            ("T1", "sv", "EUR", "U_MGR")
        ]
        left = set(inspect(engine).get_table_names())
        assert not left & {"workspace_setting_kept", "deal_value_currency_kept"}
    finally:
        engine.dispose()
