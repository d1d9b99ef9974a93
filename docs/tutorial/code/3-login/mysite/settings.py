# mysite/settings.py: add at the end
DOCSYNC["APPS"]["dashboard"] = {"app": "mysite.dashboard", "access": "login_required"}
LOGIN_URL = "/admin/login/"  # where login_required sends visitors: here, the admin's login form
