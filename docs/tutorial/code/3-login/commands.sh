DJANGO_SUPERUSER_PASSWORD=change-me-too python manage.py createsuperuser --noinput --username ada --email ada@example.com
python manage.py runserver
