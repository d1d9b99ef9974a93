def beta_testers(user, app_path):
    """The access rule of the beta app: members of the "beta" group."""
    return user.is_authenticated and user.groups.filter(name="beta").exists()
