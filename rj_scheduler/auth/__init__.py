"""Staff accounts, services (one PCC area's team), roles, sign-in and the permission policy."""
