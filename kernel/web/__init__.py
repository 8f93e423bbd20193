"""Server-rendered pages for the tablet: templates, static files, login sessions, scan."""
