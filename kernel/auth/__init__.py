"""Users, roles, bearer tokens and login throttling."""
