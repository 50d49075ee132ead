"""gunicorn settings for Hindsight; every value can be overridden from the env."""

import os

bind = os.environ.get("KB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("KB_WEB_WORKERS", "2"))
threads = int(os.environ.get("KB_WEB_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("KB_WEB_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never take the site down.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
wsgi_app = "kb.wsgi:application"
