"""Django migrations: RunPython/RunSQL reverses, and dangerous operations in the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.model.enums import RiskLevel
from safeship.scanners.migrations import Framework, Level, SqlDialect

from .migration_files import check, line_of, rule_ids, rules, write

FILE = "shop/migrations/0002_change.py"
HEAD = '''
from django.db import migrations, models


def forwards(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
'''


def migration(tmp_path: Path, operations: str) -> Path:
    return write(tmp_path, {FILE: HEAD + operations + "    ]\n"})


def at(tmp_path: Path, snippet: str) -> int:
    return line_of(tmp_path / FILE, snippet)


def test_reversible_operations_pass(tmp_path: Path) -> None:
    report = check(migration(tmp_path, '''
        migrations.AddField("product", "price", models.IntegerField(null=True)),
        migrations.AddField("product", "stock", models.IntegerField(default=0)),
        migrations.AddField("product", "tags", models.ManyToManyField("shop.Tag")),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(code=forwards, reverse_code=forwards),
        migrations.RunSQL("UPDATE shop_product SET price = 0 WHERE price IS NULL",
                          reverse_sql=migrations.RunSQL.noop),
        migrations.AlterModelOptions(name="product", options={"ordering": ["id"]}),
    '''))
    assert report.findings == ()
    (found,) = report.migrations
    assert found.framework is Framework.DJANGO
    assert (found.name, found.version, found.description) == ("shop.0002_change", "0002",
                                                              "change")
    assert found.down is not None


@pytest.mark.parametrize(("operation", "kind"), [
    ("migrations.RunPython(forwards)", "RunPython"),
    ("migrations.RunPython(forwards, reverse_code=None)", "RunPython"),
    ("migrations.RunSQL(\"UPDATE shop_product SET price = 0 WHERE id = 1\")", "RunSQL"),
    ("migrations.RunSQL(sql=[\"SELECT 1\"], reverse_sql=None)", "RunSQL"),
])
def test_run_python_and_run_sql_without_reverse_are_irreversible(
        tmp_path: Path, operation: str, kind: str) -> None:
    report = check(migration(tmp_path, f"        {operation},\n"))
    assert rules(report) == [("irreversible_operation", FILE, at(tmp_path, kind + "("))]
    reverse = "reverse_code" if kind == "RunPython" else "reverse_sql"
    assert f"{kind} without {reverse}" in report.findings[0].message
    assert "`migrate shop <previous>`" in report.findings[0].message
    assert report.migrations[0].down is None


def test_dangerous_operations(tmp_path: Path) -> None:
    report = check(migration(tmp_path, '''
        migrations.RemoveField(model_name="product", name="legacy"),
        migrations.RenameField("product", "title", "name"),
        migrations.AddField("product", "sku", models.CharField(max_length=40)),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["sku"], name="ix_product_sku"),
        ),
        migrations.DeleteModel(name="Legacy"),
        migrations.RenameModel("Thing", "Item"),
        migrations.RunSQL(["ALTER TABLE shop_product DROP COLUMN x", ("DELETE FROM t", [])],
                          reverse_sql=migrations.RunSQL.noop),
    '''))
    assert [(rule, line) for rule, _, line in rules(report)] == [
        ("drop_column", at(tmp_path, "RemoveField")),
        ("rename_column", at(tmp_path, "RenameField")),
        ("add_column_not_null", at(tmp_path, '"sku", models.CharField')),
        ("create_index_not_concurrently", at(tmp_path, "AddIndex")),
        ("drop_table", at(tmp_path, "DeleteModel")),
        ("rename_table", at(tmp_path, "RenameModel")),
        ("delete_without_where", at(tmp_path, "RunSQL")),
        ("drop_column", at(tmp_path, "RunSQL")),
    ]
    messages = [f.message for f in report.findings]
    assert "ix_product_sku on product" in messages[3]


def test_add_index_concurrently_and_mysql_pass(tmp_path: Path) -> None:
    add_index = '''
        migrations.AddIndex("product", models.Index(fields=["sku"], name="ix_sku")),
    '''
    assert check(migration(tmp_path, add_index), dialect=SqlDialect.MYSQL).findings == ()
    report = check(migration(tmp_path, '''
        AddIndexConcurrently("product", models.Index(fields=["sku"], name="ix_sku")),
    '''))
    assert report.findings == ()


def test_operations_on_a_model_created_here_are_exempt(tmp_path: Path) -> None:
    report = check(migration(tmp_path, '''
        migrations.CreateModel(name="Coupon", fields=[("id", models.AutoField())]),
        migrations.AddField("coupon", "code", models.CharField(max_length=12)),
        migrations.AddIndex("coupon", models.Index(fields=["code"], name="ix_code")),
    '''))
    assert report.findings == ()


def test_separate_database_and_state_reads_only_database_operations(tmp_path: Path) -> None:
    report = check(migration(tmp_path, '''
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("product", "ghost")],
            database_operations=[migrations.RunSQL("DROP TABLE shop_ghost")],
        ),
    '''))
    assert rule_ids(report) == ["drop_table", "irreversible_operation"]


def test_sql_built_at_run_time_and_operations_not_a_list(tmp_path: Path) -> None:
    report = check(migration(tmp_path, '''
        migrations.RunSQL(make_sql(), reverse_sql=migrations.RunSQL.noop),
    '''))
    assert rule_ids(report) == ["unparseable_sql"]
    path = write(tmp_path, {"app/migrations/0003_dynamic.py": '''
        from django.db import migrations

        class Migration(migrations.Migration):
            operations = build_operations()
    '''})
    report = check(path, "app")
    assert rules(report) == [("unparseable_python", "app/migrations/0003_dynamic.py", 3)]


def test_allow_comment_accepts_an_irreversible_operation(tmp_path: Path) -> None:
    report = check(migration(tmp_path, '''
        # safeship: allow irreversible_operation reason=one-off data fix, restore from backup
        migrations.RunPython(forwards),
    '''))
    assert report.passed
    (finding,) = report.findings
    assert finding.level is Level.ACCEPTED


def test_schema_change_at_high_risk_but_data_only_migrations_are_not(tmp_path: Path) -> None:
    schema = check(migration(tmp_path, '''
        migrations.AddField("product", "price", models.IntegerField(null=True)),
    '''), risk=RiskLevel.HIGH)
    assert rules(schema) == [("schema_change_at_high_risk", FILE, at(tmp_path, "AddField"))]
    data = check(migration(tmp_path, '''
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunSQL("UPDATE shop_product SET n = 1 WHERE id = 2", migrations.RunSQL.noop),
    '''), risk=RiskLevel.HIGH)
    assert data.passed


def test_python_files_in_migrations_without_a_migration_class_are_ignored(
        tmp_path: Path) -> None:
    report = check(write(tmp_path, {"shop/migrations/utils.py": "X = 1\n",
                                    "shop/migrations/broken_helper.py": "def (:\n"}))
    assert report.migrations == ()
    assert report.findings == ()


def test_an_allow_comment_on_any_line_of_a_multi_line_operation(tmp_path: Path) -> None:
    report = check(migration(tmp_path, '''
        migrations.RemoveField(
            model_name="product",
            name="legacy",  # safeship: allow drop_column reason=unused since 2.0
        ),
    '''))
    assert report.passed
    assert [f.level for f in report.findings] == [Level.ACCEPTED]
