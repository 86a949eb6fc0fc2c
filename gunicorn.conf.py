"""gunicorn settings read from the project folder (scripts/run.sh, the browser tests, production from here)."""
from faqbot.mail import process as mail_process
from faqbot.serving import LIMIT_REQUEST_LINE

# One outbox sender process for the whole server, not a thread in each worker (faqbot/mail/process.py): an unset
# MAIL_DELIVERY becomes `process` here, in the master, before any worker (or --preload) reads it.
mail_process.adopt_default()

# The longest request line gunicorn accepts: a 500-character search, accented and percent-encoded, fits;
# beyond, the visitor gets faqbot's French page instead of gunicorn's English « URI Too Long ».
limit_request_line = LIMIT_REQUEST_LINE


def post_worker_init(worker):
    from faqbot.serving import french_errors

    french_errors(worker)


def when_ready(server):
    mail_process.start(server)


def on_exit(server):
    mail_process.stop(server)
