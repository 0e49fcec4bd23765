"""The web console: operators work their queue and cases, admins the directory and users."""
