"""gunicorn settings read from the project folder (scripts/run.sh, the browser tests, production from here)."""
from faqbot.serving import LIMIT_REQUEST_LINE

# The longest request line gunicorn accepts: a 500-character search, accented and percent-encoded, fits;
# beyond, the visitor gets faqbot's French page instead of gunicorn's English « URI Too Long ».
limit_request_line = LIMIT_REQUEST_LINE


def post_worker_init(worker):
    from faqbot.serving import french_errors

    french_errors(worker)
