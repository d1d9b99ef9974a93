# mysite/settings.py: add at the end
INSTALLED_APPS += ["weather"]
