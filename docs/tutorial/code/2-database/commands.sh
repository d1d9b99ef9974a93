python manage.py startapp weather
python manage.py makemigrations weather
python manage.py migrate
python manage.py record Oslo 4.5
python manage.py record Oslo 5.0
python manage.py record Bergen 7.5
python manage.py runserver
