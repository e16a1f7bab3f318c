# ruff: noqa: RUF012 - Django declares operations and dependencies as class-level lists
from django.db import migrations, models


def forwards(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.RunPython(forwards),
        migrations.RunSQL("DELETE FROM shop_product"),
        migrations.RemoveField(model_name="product", name="legacy"),
        migrations.RenameField("product", "title", "name"),
        migrations.AddField("product", "sku", models.CharField(max_length=40)),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["sku"], name="ix_product_sku"),
        ),
        migrations.DeleteModel(name="Legacy"),
        migrations.RenameModel("Thing", "Item"),
    ]
