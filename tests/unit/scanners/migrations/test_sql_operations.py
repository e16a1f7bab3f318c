"""Dangerous operations in SQL: each rule with a dangerous case and a safe one, per dialect."""

from __future__ import annotations

import pytest

from safeship.scanners.migrations.hazards import without_new_tables
from safeship.scanners.migrations.model import SqlDialect
from safeship.scanners.migrations.sql_migration import only_lines, read_up
from safeship.scanners.migrations.sql_operations import analyze_sql

PG, MY, LITE = SqlDialect.POSTGRES, SqlDialect.MYSQL, SqlDialect.SQLITE


def found(sql: str, dialect: SqlDialect = PG) -> list[str]:
    return [h.rule.value for h in analyze_sql(sql, dialect).hazards]


@pytest.mark.parametrize(("sql", "rule"), [
    ("ALTER TABLE users DROP COLUMN email", "drop_column"),
    ("ALTER TABLE users DROP COLUMN IF EXISTS email", "drop_column"),
    ("DROP TABLE users", "drop_table"),
    ("DROP TABLE IF EXISTS app.users CASCADE", "drop_table"),
    ("DROP SCHEMA billing CASCADE", "drop_table"),
    ("ALTER TABLE users RENAME TO people", "rename_table"),
    ("ALTER TABLE users RENAME COLUMN mail TO email", "rename_column"),
    ("ALTER TABLE users ADD COLUMN tier int NOT NULL", "add_column_not_null"),
    ("ALTER TABLE users ADD tier int NOT NULL", "add_column_not_null"),
    ("ALTER TABLE users ALTER COLUMN tier SET NOT NULL", "set_not_null"),
    ("ALTER TABLE users ALTER COLUMN age TYPE bigint", "change_column_type"),
    ("ALTER TABLE users ALTER COLUMN age SET DATA TYPE bigint USING age::bigint",
     "change_column_type"),
    ("CREATE INDEX ix_users_email ON users (email)", "create_index_not_concurrently"),
    ("CREATE UNIQUE INDEX IF NOT EXISTS ix ON users USING btree (email) WHERE active",
     "create_index_not_concurrently"),
    ("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)",
     "foreign_key_without_not_valid"),
    ("ALTER TABLE orders ADD COLUMN user_id int REFERENCES users (id)",
     "foreign_key_without_not_valid"),
    ("UPDATE users SET tier = 0", "update_without_where"),
    ("WITH x AS (SELECT 1) UPDATE users SET tier = 0", "update_without_where"),
    ("DELETE FROM sessions", "delete_without_where"),
    ("TRUNCATE sessions", "delete_without_where"),
])
def test_dangerous_statements_are_found(sql: str, rule: str) -> None:
    assert found(sql) == [rule]


@pytest.mark.parametrize("sql", [
    "ALTER TABLE users DROP CONSTRAINT fk_old",
    "DROP INDEX ix_old",
    "DROP VIEW report",
    "ALTER INDEX ix_a RENAME TO ix_b",
    "ALTER TABLE users ADD COLUMN tier int",
    "ALTER TABLE users ADD COLUMN tier int NOT NULL DEFAULT 0",
    "ALTER TABLE users ADD COLUMN id2 bigserial NOT NULL",
    "ALTER TABLE users ADD COLUMN n int GENERATED ALWAYS AS IDENTITY NOT NULL",
    "ALTER TABLE users ALTER COLUMN tier DROP NOT NULL",
    "ALTER TABLE users ALTER COLUMN tier SET DEFAULT 0",
    "CREATE INDEX CONCURRENTLY ix_users_email ON users (email)",
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (email)",
    "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
    "ALTER TABLE orders VALIDATE CONSTRAINT fk",
    "ALTER TABLE orders ADD CONSTRAINT uq UNIQUE USING INDEX ix_orders",
    "ALTER TABLE orders ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE orders ADD CONSTRAINT ck CHECK (total >= 0) NOT VALID",
    "UPDATE users SET tier = 0 WHERE id BETWEEN 1 AND 1000",
    "UPDATE users SET tier = 0 FROM plans WHERE plans.id = users.plan_id",
    "DELETE FROM sessions WHERE expires_at < now()",
    "INSERT INTO plans (name) VALUES ('free')",
    "CREATE EXTENSION IF NOT EXISTS pgcrypto",
    "CREATE TYPE mood AS ENUM ('ok', 'sad')",
    "COMMENT ON TABLE users IS 'people'",
    "SET lock_timeout = '2s'",
    "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN DELETE FROM t; RETURN NEW; END; $$ "
    "LANGUAGE plpgsql",
])
def test_safe_statements_pass(sql: str) -> None:
    assert found(sql) == []


def test_postgres_only_rules_do_not_apply_to_mysql_and_sqlite() -> None:
    index = "CREATE INDEX ix_users_email ON users (email)"
    fk = "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)"
    assert found(index, PG) == ["create_index_not_concurrently"]
    assert found(fk, PG) == ["foreign_key_without_not_valid"]
    for dialect in (MY, LITE):
        assert found(index, dialect) == []
        assert found(fk, dialect) == []
    # The dialect-neutral rules still apply everywhere.
    for dialect in (PG, MY, LITE):
        assert found("ALTER TABLE users DROP COLUMN email", dialect) == ["drop_column"]
        assert found("UPDATE users SET a = 1", dialect) == ["update_without_where"]


def test_mysql_modify_and_change_column() -> None:
    assert found("ALTER TABLE users MODIFY COLUMN age BIGINT NOT NULL", MY) == [
        "change_column_type"]
    assert found("ALTER TABLE users CHANGE COLUMN mail email VARCHAR(200)", MY) == [
        "rename_column", "change_column_type"]
    assert found("ALTER TABLE t ADD INDEX ix (a)", MY) == []


def test_messages_name_the_objects_and_say_what_to_do() -> None:
    (hazard,) = analyze_sql("CREATE INDEX ix_users_email ON users (email)", PG).hazards
    assert "ix_users_email" in hazard.message
    assert "create the index with CONCURRENTLY (and outside a transaction) so writes are not " \
        "blocked" in hazard.message
    (hazard,) = analyze_sql("ALTER TABLE users ALTER COLUMN age TYPE bigint", PG).hazards
    assert "users.age" in hazard.message
    assert "BIGINT" in hazard.message
    (hazard,) = analyze_sql("ALTER TABLE users ALTER COLUMN tier SET NOT NULL", MY).hazards
    assert "ACCESS EXCLUSIVE" not in hazard.message  # PostgreSQL advice only for PostgreSQL


def test_several_actions_in_one_alter_each_count() -> None:
    sql = "ALTER TABLE users DROP COLUMN a, DROP COLUMN b, ADD COLUMN c int NOT NULL"
    assert found(sql) == ["drop_column", "drop_column", "add_column_not_null"]


def test_every_statement_is_placed_at_its_own_line() -> None:
    sql = ("-- header comment\n"
           "CREATE TABLE t (id int);\n"
           "\n"
           "UPDATE users\n"
           "   SET a = 'x;y';  DELETE FROM sessions;\n"
           "/* block\n comment */ DROP TABLE old;\n")
    facts = analyze_sql(sql, PG)
    assert [(h.rule.value, h.line) for h in facts.hazards] == [
        ("update_without_where", 4), ("delete_without_where", 5), ("drop_table", 7)]
    assert facts.hazards[0].end_line == 5
    assert facts.statements == 4
    assert facts.created_tables == ("t",)
    assert facts.schema_change_line == 2


def test_first_line_offsets_sql_inside_a_python_string() -> None:
    facts = analyze_sql("\n  DROP TABLE a;\n", PG, first_line=10)
    assert [(h.rule.value, h.line) for h in facts.hazards] == [("drop_table", 11)]
    assert facts.schema_change_line == 11


def test_unparseable_statement_is_a_finding_and_the_others_still_count() -> None:
    sql = "DROP TABLE a;\nSELEC oops FROM;\nDELETE FROM b;"
    facts = analyze_sql(sql, PG)
    assert [(h.rule.value, h.line) for h in facts.hazards] == [
        ("drop_table", 1), ("unparseable_sql", 2), ("delete_without_where", 3)]
    message = facts.hazards[1].message
    assert message.startswith("could not parse this SQL (")
    assert "review it by hand" in message
    assert "<Token" not in message


def test_text_that_cannot_be_tokenized_is_one_finding_at_its_first_code_line() -> None:
    facts = analyze_sql("-- comment\n\nINSERT INTO t VALUES ('never closed);\n", PG)
    (hazard,) = facts.hazards
    assert (hazard.rule.value, hazard.line) == ("unparseable_sql", 3)
    assert "cannot split it into statements" in hazard.message
    assert facts.schema_change_line == 3  # unknown SQL may change the schema: fail closed


@pytest.mark.parametrize(("sql", "word"), [
    ("ALTER TABLE t ALTER COLUMN a SET STATISTICS 100, DROP COLUMN b CASCADE CONSTRAINTS",
     "DROP"),
    ("REINDEX INDEX ix_users", "INDEX"),
    ("ALTER TABLE t ALTER CONSTRAINT c DEFERRABLE, ALTER COLUMN x TYPE int USING 1", "TYPE"),
])
def test_partly_parsed_statements_with_risky_words_need_a_look(sql: str, word: str) -> None:
    (hazard,) = analyze_sql(sql, PG).hazards
    assert hazard.rule.value == "unparseable_sql"
    assert "generic command" in hazard.message
    assert word in hazard.message


def test_operations_on_a_table_created_in_the_same_migration_are_exempt() -> None:
    sql = ("CREATE TABLE app.items (id int);\n"
           "CREATE INDEX ix_items ON items (id);\n"
           "ALTER TABLE items ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES other (id);\n"
           "CREATE INDEX ix_other ON other (id);\n")
    facts = analyze_sql(sql, PG)
    kept = without_new_tables(facts.hazards, facts.created_tables)
    assert [(h.rule.value, h.line) for h in kept] == [("create_index_not_concurrently", 4)]
    up = read_up(sql, "V1__items.sql", "V1__items", PG)
    assert [(f.rule.value, f.place.line) for f in up.findings] == [
        ("create_index_not_concurrently", 4)]


def test_only_lines_keeps_line_numbers() -> None:
    text = "a\nb\nc\nd\n"
    assert only_lines(text, 2, 3) == "\nb\nc\n\n"
