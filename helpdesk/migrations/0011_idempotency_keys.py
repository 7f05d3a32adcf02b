"""Idempotency-Key: the claimed keys of unsafe API requests and their first responses."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0010_department_access"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=255, verbose_name="key")),
                ("fingerprint", models.CharField(max_length=64, verbose_name="request fingerprint")),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="created")),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="response status")),
                ("response_headers", models.JSONField(blank=True, default=dict, verbose_name="response headers")),
                ("response_body", models.BinaryField(blank=True, default=b"", verbose_name="response body")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={"verbose_name": "idempotency key", "verbose_name_plural": "idempotency keys"},
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(fields=("user", "key"), name="hd_idempotency_user_key"),
        ),
    ]
