# weather/management/commands/__init__.py: a new file (empty: it makes a package)
