"""The admin overview: its index entry (a proxy), an index for closed dates, agents-only assignees."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('helpdesk', '0003_api_search'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='TicketOverview',
            fields=[
            ],
            options={
                'verbose_name': 'overview',
                'verbose_name_plural': 'overview',
                'proxy': True,
                'default_permissions': (),
                'indexes': [],
                'constraints': [],
            },
            bases=('helpdesk.ticket',),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='assignees',
            field=models.ManyToManyField(blank=True, limit_choices_to={'is_active': True, 'is_staff': True}, related_name='helpdesk_tickets_assigned', to=settings.AUTH_USER_MODEL, verbose_name='assignees'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('closed_at__isnull', False)), fields=['closed_at'], name='hd_ticket_closed'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('active_state', 'active')), fields=['status', 'department', 'priority', 'id'], name='hd_ticket_active_breakdown'),
        ),
    ]
