from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="LiveSession",
            fields=[
                ("session_id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("app", models.CharField(db_index=True, max_length=100)),
                ("user", models.CharField(blank=True, db_index=True, max_length=150)),
                ("process", models.CharField(db_index=True, max_length=200)),
                ("created", models.DateTimeField()),
                ("last_activity", models.DateTimeField(db_index=True)),
                ("connections", models.PositiveIntegerField(default=0)),
                ("models_count", models.PositiveIntegerField(default=0, verbose_name="models")),
                ("messages_in", models.PositiveBigIntegerField(default=0)),
                ("messages_out", models.PositiveBigIntegerField(default=0)),
                ("bytes_in", models.PositiveBigIntegerField(default=0)),
                ("bytes_out", models.PositiveBigIntegerField(default=0)),
                ("keep_alive", models.BooleanField(default=False)),
                (
                    "reported",
                    models.DateTimeField(db_index=True, help_text="When the holding process last wrote this row."),
                ),
            ],
            options={"ordering": ["-last_activity"], "verbose_name": "live session"},
        ),
    ]
