"""Backend of the regional anti-trafficking hotline."""
