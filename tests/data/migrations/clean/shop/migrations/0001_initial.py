# ruff: noqa: RUF012 - Django declares operations and dependencies as class-level lists
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("title", models.CharField(max_length=200)),
            ],
        ),
        migrations.AddField(
            model_name="product",
            name="sku",
            field=models.CharField(max_length=40),
        ),
    ]
