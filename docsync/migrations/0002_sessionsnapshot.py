from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("docsync", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="SessionSnapshot",
            fields=[
                ("session_id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("app", models.CharField(db_index=True, max_length=100)),
                (
                    "seq",
                    models.PositiveBigIntegerField(default=0, help_text="The session's position when it was saved."),
                ),
                ("nbytes", models.PositiveBigIntegerField(default=0, verbose_name="bytes")),
                ("process", models.CharField(help_text="The process that saved it.", max_length=200)),
                ("saved", models.DateTimeField()),
                ("expires", models.DateTimeField(db_index=True)),
                (
                    "data",
                    models.BinaryField(
                        help_text="The snapshot: header JSON and raw buffers (docsync.server.persistence)."
                    ),
                ),
            ],
            options={"ordering": ["-saved"], "verbose_name": "session snapshot"},
        ),
    ]
