django-admin startproject mysite
cd mysite
python manage.py migrate
python manage.py migrate
python manage.py check
python manage.py runserver
