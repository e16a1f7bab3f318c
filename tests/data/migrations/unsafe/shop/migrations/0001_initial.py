# ruff: noqa: RUF012 - Django declares operations and dependencies as class-level lists
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[("id", models.BigAutoField(primary_key=True))],
        ),
    ]
