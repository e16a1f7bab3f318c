# ruff: noqa: RUF012 - Django declares operations and dependencies as class-level lists
from django.db import migrations, models


def fill_prices(apps, schema_editor):
    Product = apps.get_model("shop", "Product")
    Product.objects.filter(price__isnull=True).update(price=0)


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField("product", "price", models.IntegerField(null=True)),
        migrations.AddField("product", "stock", models.IntegerField(default=0)),
        migrations.RunPython(fill_prices, migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY ix_product_price ON shop_product (price);",
            reverse_sql="DROP INDEX CONCURRENTLY ix_product_price;",
        ),
    ]
