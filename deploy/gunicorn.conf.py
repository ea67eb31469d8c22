"""gunicorn settings for Llámenos' HTTP (every page and every provider webhook).

    gunicorn -c deploy/gunicorn.conf.py llamenos.wsgi

Websockets (/ws/) are served by daphne beside it; the TLS proxy splits the two by path
(deploy/Caddyfile, deploy/nginx.conf). Every value can be overridden on the command line or with
GUNICORN_CMD_ARGS.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Two processes per core with two threads each: a webhook waiting on PostgreSQL or Redis does not
# hold a whole process, and few threads share each process's GIL (measured with `make bench`, 2
# cores, 20 calls live: p99 44 ms with 4 x 2, 68-88 ms with 2 x 8). Keep threads at or under
# DB_POOL_MAX_SIZE (a request holds at most one pooled connection).
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 2))
# Providers wait 15 s (Twilio) for an answer; a request still running after 30 s is stuck.
timeout = 30
graceful_timeout = 20
# Behind the proxy's keep-alive connections.
keepalive = 75
# Replace a worker now and then, so a slow leak cannot grow for ever.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
# No query strings in the access log: a step URL carries ids only, but keep the habit.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
